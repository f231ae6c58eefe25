#include "runtime/runtime_options.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace dynamod {

const char* const kRuntimeUsage =
    "usage: dynamod-runtime [--user] [--config-dir DIR] [--state-dir DIR] [--log-dir DIR] [--log-level LEVEL]\n"
    "       dynamod-runtime --check DIR\n"
    "\n"
    "  --user            run as an ordinary process: own config dir, state dir and socket; subreaper\n"
    "  --config-dir DIR  services/ and supervisors/ live here (system: /etc/dynamod)\n"
    "  --state-dir DIR   sockets and state (system: /run/dynamod)\n"
    "  --log-dir DIR     service logs (system: /var/log/dynamod)\n"
    "  --log-level L     trace, debug, info, warn, error\n"
    "  --log-group G     members of group G may read services' logs (logs, status); default adm if it exists,\n"
    "                    none: only root (and, with --user, the runtime's own user)\n"
    "  --check DIR       validate the configuration under DIR, print every error, exit non-zero if any\n"
    "  --dbus, --no-dbus serve org.freedesktop.systemd1, login1, hostname1, timedate1, locale1 (on as the\n"
    "                    machine's init; off with --user and in a pid namespace of its own)\n"
    "  --system-bus A    the system bus' address (unix:path=/run/dbus/system_bus_socket)\n"
    "  --systemd-dir DIR systemctl's private socket and the system/ gate (/run/systemd)\n"
    "  --settings-root D where hostname1, timedate1 and locale1 keep etc/ (/)\n"
    "  --user-runtime-dir D  where login1 makes users' runtime directories (/run/user)\n"
    "\n"
    "DYNAMOD_CONFIG_DIR, DYNAMOD_STATE_DIR and DYNAMOD_LOG_DIR set the directories too (flags win).\n"
    "DYNAMOD_RUNTIME_LOG_MAX_SIZE (bytes, default 4 MiB, 0: never) rotates <state-dir>/runtime.log.\n";

namespace {
std::string get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string{} : it->second;
}
}  // namespace

std::optional<std::string> parse_runtime_options(const std::vector<std::string>& args,
                                                 const std::map<std::string, std::string>& env, unsigned uid,
                                                 runtime_options& out) {
  std::string config_dir, state_dir, log_dir;
  std::optional<bool> dbus;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& target) -> bool {
      if (i + 1 >= args.size()) return false;
      target = args[++i];
      return !target.empty();
    };
    if (a == "--user") {
      out.user_mode = true;
    } else if (a == "--help" || a == "-h") {
      out.show_help = true;
    } else if (a == "--version") {
      out.show_version = true;
    } else if (a == "--config-dir") {
      if (!value(config_dir)) return "--config-dir needs a directory";
    } else if (a == "--state-dir") {
      if (!value(state_dir)) return "--state-dir needs a directory";
    } else if (a == "--log-dir") {
      if (!value(log_dir)) return "--log-dir needs a directory";
    } else if (a == "--log-group") {
      if (!value(out.log_group)) return "--log-group needs a group name (or none)";
    } else if (a == "--check") {
      if (!value(out.check_dir)) return "--check needs a directory";
    } else if (a == "--dbus" || a == "--no-dbus") {
      dbus = a == "--dbus";
    } else if (a == "--system-bus") {
      if (!value(out.dbus.system_bus)) return "--system-bus needs a D-Bus address";
    } else if (a == "--systemd-dir") {
      if (!value(out.dbus.systemd_dir)) return "--systemd-dir needs a directory";
    } else if (a == "--settings-root") {
      if (!value(out.dbus.settings_root)) return "--settings-root needs a directory";
    } else if (a == "--user-runtime-dir") {
      if (!value(out.dbus.user_runtime_dir)) return "--user-runtime-dir needs a directory";
    } else if (a == "--log-level") {
      if (!value(out.log_level)) return "--log-level needs a level";
      static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
      bool known = false;
      for (const char* l : levels) known |= out.log_level == l;
      if (!known) return "unknown log level '" + out.log_level + "'";
    } else {
      return "unknown argument '" + a + "'";
    }
  }

  out.dbus_requested = dbus;

  const std::string fd = get(env, "DYNAMOD_INIT_FD");
  if (!fd.empty() && !out.user_mode) {
    try {
      size_t used = 0;
      out.init_fd = std::stoi(fd, &used);
      if (used != fd.size() || out.init_fd < 3) return "DYNAMOD_INIT_FD must be a file descriptor >= 3";
    } catch (...) {
      return "DYNAMOD_INIT_FD must be a file descriptor >= 3";
    }
  }

  const std::string log_size = get(env, "DYNAMOD_RUNTIME_LOG_MAX_SIZE");
  if (!log_size.empty()) {
    const char* bad = "DYNAMOD_RUNTIME_LOG_MAX_SIZE must be a number of bytes";
    if (log_size.find_first_not_of("0123456789") != std::string::npos || log_size.size() > 15) return bad;
    out.runtime_log_max_size = std::stoull(log_size);
  }

  if (out.user_mode) {
    std::string config_home = get(env, "XDG_CONFIG_HOME");
    if (config_home.empty()) config_home = get(env, "HOME").empty() ? "/tmp" : get(env, "HOME") + "/.config";
    std::string runtime_dir = get(env, "XDG_RUNTIME_DIR");
    out.paths.config_dir = config_home + "/dynamod";
    out.paths.state_dir = runtime_dir.empty() ? "/tmp/dynamod-" + std::to_string(uid) : runtime_dir + "/dynamod";
  } else {
    out.paths.config_dir = "/etc/dynamod";
    out.paths.state_dir = "/run/dynamod";
  }
  // The environment (e.g. passed through dynamod-init in a container) overrides defaults; flags override both.
  if (config_dir.empty()) config_dir = get(env, "DYNAMOD_CONFIG_DIR");
  if (state_dir.empty()) state_dir = get(env, "DYNAMOD_STATE_DIR");
  if (log_dir.empty()) log_dir = get(env, "DYNAMOD_LOG_DIR");
  if (!config_dir.empty()) out.paths.config_dir = config_dir;
  if (!state_dir.empty()) out.paths.state_dir = state_dir;
  out.private_state_dir = out.user_mode && state_dir.empty();
  out.paths.log_dir = !log_dir.empty() ? log_dir : out.user_mode ? out.paths.state_dir + "/log" : "/var/log/dynamod";
  out.paths.control_socket = out.paths.state_dir + "/control.sock";
  return std::nullopt;
}

bool dbus_wanted(const runtime_options& opts, bool initial_pid_namespace) {
  return opts.dbus_requested.value_or(!opts.user_mode && initial_pid_namespace);
}

std::optional<std::string> check_private_dir(const std::string& path, unsigned uid) {
  if (::mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) return path + ": cannot create: " + std::strerror(errno);
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return path + ": " + std::strerror(errno);
  if (S_ISLNK(st.st_mode)) return path + " is a symbolic link, not a directory of our own; remove it";
  if (!S_ISDIR(st.st_mode)) return path + " is not a directory; remove it";
  if (st.st_uid != uid) {
    return path + " belongs to uid " + std::to_string(st.st_uid) + ", not to us (uid " + std::to_string(uid) +
           "): someone else made it; remove it or use --state-dir";
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return path + " has mode " + mode + ": others could reach it; chmod 0700 it";
  }
  return std::nullopt;
}

}  // namespace dynamod
