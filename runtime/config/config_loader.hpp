// Loads a configuration tree (<dir>/supervisors/*.toml, <dir>/services/*.toml) and checks what no
// single file can: duplicate names, unknown supervisors and parents, unknown requirements, dependency
// cycles. A broken file disables its service, and every service that requires it, with the reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/config/config_error.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

struct config_tree {
  std::vector<service_config> services;        // enabled ones, in file-name order
  std::vector<supervisor_config> supervisors;  // enabled ones, "root" first
  std::map<std::string, std::string> disabled; // service name -> why it will not run
  config_errors errors;
};

config_tree load_config_tree(const std::string& dir);

// The same checks on already-parsed files (for tests): `errors` holds the files' own problems.
config_tree check_config_tree(std::vector<service_config> services, std::vector<supervisor_config> supervisors,
                              config_errors errors, std::map<std::string, std::string> disabled = {});

}  // namespace dynamod
