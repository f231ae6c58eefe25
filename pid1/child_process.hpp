// The two programs PID 1 ever starts: the runtime (with the IPC socket at fd 3) and, when things go
// wrong, an emergency shell on the console.
#pragma once

#include <sys/types.h>

namespace dynamod::init {

inline constexpr int kRuntimeIpcFd = 3;  // also announced to the runtime as DYNAMOD_INIT_FD=3

struct spawn_result {
  pid_t pid = -1;
  int error = 0;  // errno of the failed step (fork or exec) when pid < 0
};

// Starts the runtime with `ipc_fd` as its fd 3. Returns after the exec has succeeded or failed.
spawn_result spawn_runtime(const char* path, int ipc_fd);

// Starts `shell` as a session leader with /dev/console as its controlling terminal.
spawn_result spawn_emergency_shell(const char* shell);

}  // namespace dynamod::init
