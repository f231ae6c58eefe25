#include "pid1/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pid1/file_io.hpp"
#include "pid1/file_limit.hpp"

extern char** environ;

namespace dynamod::init {

namespace {

constexpr size_t kMaxEnv = 96;

// Builds the child's environment: ours plus `extra` and a default PATH (the kernel gives init none),
// in a static array (no allocation).
char* const* child_environment(const char* extra) {
  static char default_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static char* env[kMaxEnv + 3];
  size_t n = 0;
  bool has_path = false;
  for (char** e = environ; e && *e && n < kMaxEnv; ++e) {
    if (std::strncmp(*e, "DYNAMOD_INIT_FD=", 16) == 0) continue;
    has_path |= std::strncmp(*e, "PATH=", 5) == 0;
    env[n++] = *e;
  }
  if (!has_path) env[n++] = default_path;
  if (extra) env[n++] = const_cast<char*>(extra);
  env[n] = nullptr;
  return env;
}

// In the child: undo what PID 1 set up for itself.
void reset_child_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  }
  restore_inherited_file_limit();
}

// Forks; the child runs `setup` then execs. An exec failure travels back through a CLOEXEC pipe, so the
// caller usually learns it at once instead of from a mysterious exit status 127. The wait for the pipe is
// bounded (an exec can hang on a dead network filesystem): past it the child counts as started, and a late
// failure arrives as its exit status. PID 1 never waits for the child itself: the event loop reaps it.
template <class Setup>
spawn_result fork_exec(const char* path, char* const argv[], char* const envp[], Setup setup) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return {-1, errno};
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return {-1, err};
  }
  if (pid == 0) {
    ::close(pipefd[0]);
    reset_child_signals();
    int err = setup();
    if (err == 0) {
      ::execve(path, argv, envp);
      err = errno;
    }
    // PID 1 may have stopped waiting and closed its end: exit 127, not SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    (void)!::write(pipefd[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(pipefd[1]);
  spawn_result result{pid, 0};
  switch (wait_exec_status(pipefd[0], kExecConfirmTimeoutMs, result.error)) {
    case exec_status::failed: result.pid = -1; break;
    case exec_status::unconfirmed: result.unconfirmed = true; break;
    case exec_status::started: break;
  }
  ::close(pipefd[0]);
  return result;
}

}  // namespace

exec_status wait_exec_status(int fd, int timeout_ms, int& error) {
  const uint64_t deadline = monotonic_ms() + static_cast<uint64_t>(timeout_ms);
  for (;;) {
    const uint64_t now = monotonic_ms();
    if (now >= deadline) return exec_status::unconfirmed;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(deadline - now));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      error = errno;
      return exec_status::unconfirmed;
    }
    if (r == 0) return exec_status::unconfirmed;
    int child_err = 0;
    const ssize_t n = ::read(fd, &child_err, sizeof child_err);
    if (n < 0 && errno == EINTR) continue;
    if (n == static_cast<ssize_t>(sizeof child_err)) {
      error = child_err;
      return exec_status::failed;
    }
    return exec_status::started;  // EOF: the exec closed the pipe
  }
}

spawn_result spawn_runtime(const char* path, int ipc_fd) {
  char* const argv[] = {const_cast<char*>(path), nullptr};
  char* const* envp = child_environment("DYNAMOD_INIT_FD=3");
  return fork_exec(path, argv, envp, [ipc_fd]() -> int {
    if (::setsid() < 0) return errno;
    if (ipc_fd == kRuntimeIpcFd) {
      if (::fcntl(ipc_fd, F_SETFD, 0) < 0) return errno;
    } else if (::dup2(ipc_fd, kRuntimeIpcFd) < 0) {  // dup2 clears CLOEXEC on the new fd
      return errno;
    }
    return 0;
  });
}

spawn_result spawn_emergency_shell(const char* shell) {
  char* const argv[] = {const_cast<char*>(shell), nullptr};
  char* const* envp = child_environment("PS1=dynamod-emergency# ");
  return fork_exec(shell, argv, envp, []() -> int {
    if (::setsid() < 0) return errno;
    const int fd = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0) return errno;
    if (::ioctl(fd, TIOCSCTTY, 1) < 0) return errno;
    for (int target = 0; target < 3; ++target) {
      if (::dup2(fd, target) < 0) return errno;
    }
    if (fd > 2) ::close(fd);
    return 0;
  });
}

}  // namespace dynamod::init
