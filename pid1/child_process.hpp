// The two programs PID 1 ever starts: the runtime (with the IPC socket at fd 3) and, when things go
// wrong, an emergency shell on the console.
#pragma once

#include <sys/types.h>

namespace dynamod::init {

inline constexpr int kRuntimeIpcFd = 3;  // also announced to the runtime as DYNAMOD_INIT_FD=3

inline constexpr int kExecConfirmTimeoutMs = 2000;

struct spawn_result {
  pid_t pid = -1;
  int error = 0;             // errno of the failed step (fork or exec) when pid < 0
  bool unconfirmed = false;  // the exec neither succeeded nor failed within kExecConfirmTimeoutMs
};

// The exec-status pipe (CLOEXEC in the child): EOF = the exec happened, an int = its errno. Waits at most
// `timeout_ms`; never longer.
enum class exec_status { started, failed, unconfirmed };
exec_status wait_exec_status(int fd, int timeout_ms, int& error);

// Starts the runtime with `ipc_fd` as its fd 3. Returns once the exec succeeded or failed, or after
// kExecConfirmTimeoutMs at most (then `unconfirmed`: a late failure shows as the child's exit).
spawn_result spawn_runtime(const char* path, int ipc_fd);

// Starts `shell` as a session leader with /dev/console as its controlling terminal.
spawn_result spawn_emergency_shell(const char* shell);

}  // namespace dynamod::init
