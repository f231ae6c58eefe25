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

// Reads <dir>/supervisors/*.toml and <dir>/services/*.toml. A file or directory that cannot be read (missing
// permission, a dangling symlink, a directory named x.toml, ...) is an error naming the path and the reason;
// so is a `dir` that does not exist. Missing subdirectories are empty.
// Services marked <dir>/manual/<name> (any file or symlink; `systemctl disable` makes a link to /dev/null) get
// start_at_boot = false.
config_tree load_config_tree(const std::string& dir);

// A disabled service (start_at_boot false) that a service starting at boot requires or wants, directly or through
// others, starts at boot too (systemd's Requires=/Wants= pull a disabled unit in).
void pull_in_requirements(std::vector<service_config>& services);

// The enable state of a service, kept in the configuration directory as systemd keeps its own in /etc.
std::string manual_start_marker(const std::string& config_dir, const std::string& service);
bool manual_start_marked(const std::string& config_dir, const std::string& service);

// The same on files already read (for the fuzzer and tests): `path` is used in messages and for the stem.
struct config_text {
  std::string path;
  std::string text;
};
config_tree load_config_texts(const std::vector<config_text>& supervisor_files,
                              const std::vector<config_text>& service_files, config_errors errors = {},
                              std::map<std::string, std::string> disabled = {});

// The same checks on already-parsed files (for tests): `errors` holds the files' own problems.
config_tree check_config_tree(std::vector<service_config> services, std::vector<supervisor_config> supervisors,
                              config_errors errors, std::map<std::string, std::string> disabled = {});

}  // namespace dynamod
