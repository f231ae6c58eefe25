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
  // "file:line:column: key: message"; for_terminal escapes control characters (terminal_safe); JSON replies use
  // the exact text and leave escaping to whoever prints it.
  std::string describe(bool for_terminal = true) const;
};

using config_errors = std::vector<config_error>;

}  // namespace dynamod
