// Command-line options of dynamod-runtime. Pure: argv and environment in, options or an error out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime_context.hpp"

namespace dynamod {

struct runtime_options {
  bool user_mode = false;
  bool show_help = false;
  bool show_version = false;
  std::string check_dir;  // --check DIR: validate and exit
  std::string log_level = "info";
  int init_fd = -1;       // DYNAMOD_INIT_FD
  std::string log_group;  // --log-group: may read services' logs; empty: "adm" if it exists; "none": admins only
  bool private_state_dir = false;  // user mode's default state dir (in /tmp): must be the user's own, 0700
  uint64_t runtime_log_max_size = 4 << 20;  // DYNAMOD_RUNTIME_LOG_MAX_SIZE (bytes, 0: never rotate)
  int runtime_log_keep = 3;                 // runtime.log.1 ... .3, like a service log
  runtime_paths paths;
  dbus_settings dbus;                // `enabled` is decided by dbus_wanted()
  std::optional<bool> dbus_requested;  // --dbus / --no-dbus
};

// The D-Bus face is the system's: on by default for a system runtime in the initial pid namespace (the machine's
// init), off in user mode and in a container (whose /run and bus may be the host's); --dbus / --no-dbus decide.
bool dbus_wanted(const runtime_options& opts, bool initial_pid_namespace);

// `env` holds the variables the runtime cares about (HOME, XDG_*, DYNAMOD_INIT_FD); uid is for defaults.
// Returns an error message on bad usage.
std::optional<std::string> parse_runtime_options(const std::vector<std::string>& args,
                                                 const std::map<std::string, std::string>& env, unsigned uid,
                                                 runtime_options& out);

extern const char* const kRuntimeUsage;

// User mode's state directory in a shared place (/tmp/dynamod-<uid>) could be made by someone else first, to
// read the control socket's traffic or plant files: it must be a real directory (no symlink), owned by `uid`,
// with no access for group or others. Creates it (0700) if missing. Returns what is wrong, if anything.
std::optional<std::string> check_private_dir(const std::string& path, unsigned uid);

}  // namespace dynamod
