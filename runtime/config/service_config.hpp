// Services and supervisors as described by /etc/dynamod/{services,supervisors}/*.toml. The schema is
// the original dynamod's (../shared/spec/config.md) plus our extensions; docs/config.md documents it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod {

using std::chrono::milliseconds;

enum class service_type { simple, oneshot, forking, notify };
enum class restart_policy { permanent, transient, temporary };
enum class readiness_type { none, notify, tcp_port, exec, fd };
// (ext) Whose sd_notify messages count (systemd's NotifyAccess): none; the main process only (default); the main
// process and the stop command; any process of the service (its cgroup, or without cgroups its main process's
// descendants).
enum class notify_access { none, main, exec, all };
enum class supervisor_strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
// (ext) What the root supervisor does when it would give up (systemd's FailureAction, plus degrade).
enum class give_up_action { degrade, poweroff, reboot, emergency };

const char* to_string(service_type t);
const char* to_string(restart_policy p);
const char* to_string(readiness_type t);
const char* to_string(notify_access a);
const char* to_string(supervisor_strategy s);
const char* to_string(give_up_action a);

struct optional_limit {  // a cgroup size: unset, "max", or bytes
  bool set = false;
  bool is_max = false;
  uint64_t bytes = 0;
  bool operator==(const optional_limit&) const = default;
};

struct bind_mount {
  std::string source;
  std::string target;
  bool writable = false;
  bool operator==(const bind_mount&) const = default;
};

struct service_config {
  // [service]
  std::string name;
  std::string file;  // where it was read from
  // The enable state (not part of the definition: changing it restarts nothing). `enabled` is false when
  // <config dir>/manual/<name> exists (`systemctl disable`). `start_at_boot` is what the supervisor does with it:
  // a disabled service is started only when asked (never at boot or by a reload that adds it), unless a service
  // that starts requires or wants it, which pulls it in as systemd's Requires=/Wants= do.
  bool enabled = true;
  bool start_at_boot = true;
  std::string supervisor = "root";
  std::vector<std::string> exec;
  std::string workdir;
  service_type type = service_type::simple;
  std::map<std::string, std::string> environment;
  std::string environment_file;
  std::string pid_file;  // (ext) forking: where the daemon writes its pid
  // [service.user]
  std::string user;
  std::string group;
  std::vector<std::string> supplementary_groups;
  // [restart]
  restart_policy restart = restart_policy::permanent;
  milliseconds restart_delay{1000};
  int max_restarts = 5;
  milliseconds max_restart_window{60000};
  bool backoff = false;             // (ext) double the delay after each quick failure ...
  milliseconds backoff_max{300000}; // ... up to this
  // [readiness]
  readiness_type readiness = readiness_type::none;
  int port = 0;
  std::string host = "127.0.0.1";   // (ext)
  std::vector<std::string> check_exec;
  milliseconds check_interval{1000};  // (ext) interval
  milliseconds check_timeout{5000};   // (ext) check-timeout: one check may take this long
  int check_retries = 0;              // (ext) retries: give up after this many failed checks (0: until timeout)
  int ready_fd = 3;                   // (ext) fd: the fd number the service writes a newline to
  milliseconds start_timeout{30000};  // timeout
  std::optional<milliseconds> watchdog;  // (ext)
  notify_access notify_access_mode = notify_access::main;  // (ext) notify-access
  // [dependencies]
  std::vector<std::string> requires_;
  std::vector<std::string> wants;
  std::vector<std::string> after;
  std::vector<std::string> before;
  // [cgroup]
  optional_limit memory_max, memory_high, memory_swap_max;
  std::optional<int> cpu_weight;
  std::string cpu_max;  // "quota period" / "max period"
  std::optional<int64_t> pids_max;  // -1: max
  std::optional<int> io_weight;
  std::vector<std::string> io_max;
  // [namespace]
  std::vector<std::string> namespaces;  // pid, mnt, net, uts, ipc, user, cgroup
  std::vector<bind_mount> bind_mounts;
  bool private_tmp = false;
  std::string protect_system;  // "", "strict", "full"
  std::string hostname;
  std::vector<std::string> read_only_paths;     // (ext)
  std::vector<std::string> inaccessible_paths;  // (ext)
  bool service_is_pid1 = false;  // (ext) with pid: no minimal init, the service is PID 1 of its namespace
  // [shutdown]
  int stop_signal = 15;
  milliseconds stop_timeout{10000};  // 0 = brutal kill (OTP brutal_kill)
  std::vector<std::string> stop_exec;
  // [security] (ext)
  bool no_new_privileges = false;
  std::optional<std::vector<std::string>> capabilities;  // bounding set; unset = unchanged
  std::vector<std::string> ambient_capabilities;
  std::vector<std::string> seccomp_allow;
  std::vector<std::string> seccomp_deny;
  bool seccomp_kill = false;  // seccomp-action = "kill" (default "errno")
  std::map<std::string, int64_t> rlimits;  // -1 = infinity
  std::optional<unsigned> umask;
  // [log] (ext)
  std::string log_file;  // default <log_dir>/<name>.log
  uint64_t log_max_size = 1 << 20;
  int log_keep = 3;

  // Where keys that other files refer to were written ("dependencies.requires" -> line, column), so
  // cross-file errors (an unknown dependency, a missing supervisor) can point at them.
  std::map<std::string, std::pair<int, int>> positions;

  bool uses_cgroup_limits() const;
  bool operator==(const service_config&) const = default;
};

struct supervisor_config {
  std::string name;
  std::string file;
  std::string parent = "root";
  supervisor_strategy strategy = supervisor_strategy::one_for_one;
  int max_restarts = 10;
  milliseconds max_restart_window{300000};
  // (ext) root only: degrade leaves the child that made it give up failed and keeps the rest running; the
  // others give up as OTP does (everything stopped) and then power off, reboot, or exit for the emergency shell.
  give_up_action give_up = give_up_action::degrade;
  std::map<std::string, std::pair<int, int>> positions;  // "supervisor.parent" -> line, column
  bool operator==(const supervisor_config&) const = default;
};

// Same definition, whatever file it came from and wherever its keys sit (what reload compares).
bool same_definition(service_config a, service_config b);
bool same_definition(supervisor_config a, supervisor_config b);

}  // namespace dynamod
