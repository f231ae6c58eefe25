// A configuration problem, located: "web.toml:3:8: service.exec: expected an array of strings, got a string".
#pragma once

#include <string>
#include <vector>

namespace dynamod {

struct config_error {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // "service.exec"; empty for file-level problems
  std::string message;
  std::string describe() const;
};

using config_errors = std::vector<config_error>;

}  // namespace dynamod
