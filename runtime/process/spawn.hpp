// The one way the runtime starts a process. Everything the child needs is prepared in the parent;
// the child (clone with CLONE_VM|CLONE_VFORK, like posix_spawn) only makes raw syscalls, then execs.
// A failing step is reported back synchronously with its name and errno.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace dynamod {

struct isolation_plan;
struct seccomp_program;

struct spawn_spec {
  std::vector<std::string> argv;  // argv[0]: absolute path, or a name looked up in PATH
  std::vector<std::string> env;   // complete environment, KEY=VALUE
  std::string workdir;            // empty: inherit
  int stdin_fd = -1;              // -1: /dev/null
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: same as stdout
  std::vector<std::pair<int, int>> extra_fds;  // (target fd >= 3, source fd): readiness fd, sockets
  // Variables whose value is the child's own pid (WATCHDOG_PID, LISTEN_PID): known only after the fork.
  std::vector<std::string> pid_variables;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> supplementary_groups;  // applied when gid is set
  std::optional<mode_t> umask;
  bool new_session = true;  // setsid(): the service gets its own session and process group
  // Isolation (all optional; the pointers must stay valid for the call):
  int cgroup_procs_fd = -1;                    // the service cgroup's cgroup.procs: joined before anything else
  const isolation_plan* isolation = nullptr;   // namespaces, mounts, capabilities, rlimits
  const seccomp_program* seccomp = nullptr;    // loaded last, just before exec
  std::string nsinit;                          // dynamod-nsinit, for isolation->minimal_init
};

struct spawn_result {
  pid_t pid = -1;
  int error = 0;             // errno of the failed step
  std::string step;          // "fork", "exec", "chdir", "read-only /srv", ...
  // The child's pidfd (the caller owns it; the reaper takes it): its exit is found through this descriptor, in
  // O(1), not by a waitid(P_ALL) scan of every child.
  int pidfd = -1;
  bool ok() const { return pid > 0; }
  std::string describe() const;  // "exec /usr/bin/x: No such file or directory"
};

spawn_result spawn_process(const spawn_spec& spec);

// The step failed because the runtime (or the system) is short of descriptors or memory, not because of the
// service: EMFILE/ENFILE at any step, ENOMEM/EAGAIN from clone itself. Such a start is retried, not counted.
bool spawn_lacks_resources(int error, const std::string& step);

// The RLIMIT_NOFILE soft limit every spawned process starts with (the runtime raises its own).
void set_service_file_limit(unsigned long soft);

// Resolves a program name against PATH (":"-separated); returns empty if not found or not executable.
std::string find_executable(const std::string& name, const std::string& path_variable);

}  // namespace dynamod
