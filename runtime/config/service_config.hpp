// A service as described by /etc/dynamod/services/<name>.toml (schema: ../shared/spec/config.md).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dynamod {

struct service_config {
  std::string name;
  std::string file;  // where it was read from, for messages
  std::vector<std::string> exec;
  std::chrono::milliseconds restart_delay{1000};
  std::chrono::milliseconds stop_timeout{10000};
  int stop_signal = 15;  // SIGTERM
};

struct config_error {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;
  std::string message;
  std::string describe() const;  // "web.toml:3:1: service.exec: required key is missing"
};

struct loaded_config {
  std::vector<service_config> services;  // in file-name order
  std::vector<config_error> errors;
};

// Reads every *.toml in <dir>/services. A broken file disables its service only.
loaded_config load_config_dir(const std::string& dir);

}  // namespace dynamod
