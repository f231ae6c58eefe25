#include "runtime/process/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

namespace dynamod {

namespace {

constexpr size_t kChildStackSize = 64 * 1024;
unsigned long g_service_nofile = 0;  // 0: leave as inherited
constexpr int kHighFdBase = 1000;  // sources are parked above every target before the final dup2s

// Shared with the CLONE_VM child: everything it reads is prepared, everything it writes is the error.
struct child_context {
  const char* path;
  char* const* argv;
  char* const* envp;
  const char* workdir;
  int sources[64];  // sources[i] becomes fd targets[i]
  int targets[64];
  int fd_count;
  char* pid_slots[8];  // "NAME=" followed by room for the pid digits, inside envp
  int pid_slot_count;
  bool set_gid, set_uid, new_session;
  gid_t gid;
  uid_t uid;
  const gid_t* groups;
  size_t group_count;
  bool set_umask;
  mode_t umask_value;
  unsigned long nofile_soft;
  // results
  int error;
  const char* step;
};

[[noreturn]] void child_fail(child_context* c, const char* step) {
  c->error = errno;
  c->step = step;
  ::_exit(127);
}

int child_main(void* arg) {
  auto* c = static_cast<child_context*>(arg);
  // The one disposition the runtime changes (SIGPIPE ignored) must not leak into services; it installs no
  // handlers (signals arrive through a signalfd), and exec resets handled signals anyway.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::syscall(SYS_rt_sigaction, SIGPIPE, &dfl, nullptr, _NSIG / 8);
  if (c->new_session && ::setsid() < 0) child_fail(c, "setsid");
  // Park every source fd above all targets, then place them: no source is clobbered by a target.
  int parked[64];
  for (int i = 0; i < c->fd_count; ++i) {
    parked[i] = ::fcntl(c->sources[i], F_DUPFD_CLOEXEC, kHighFdBase);
    if (parked[i] < 0) child_fail(c, "dup fd");
  }
  for (int i = 0; i < c->fd_count; ++i) {
    if (::dup2(parked[i], c->targets[i]) < 0) child_fail(c, "dup2");
  }
  // The pid is ours only now; the slots live in the parent's memory, which we share until exec.
  if (c->pid_slot_count > 0) {
    char digits[16];
    int n = 0;
    for (long pid = ::syscall(SYS_getpid); pid > 0; pid /= 10) digits[n++] = static_cast<char>('0' + pid % 10);
    for (int s = 0; s < c->pid_slot_count; ++s) {
      char* p = c->pid_slots[s];
      while (*p != '=') ++p;
      ++p;
      for (int i = n; i-- > 0;) *p++ = digits[i];
      *p = '\0';
    }
  }
  if (c->workdir && ::chdir(c->workdir) < 0) child_fail(c, "chdir");
  if (c->set_umask) ::umask(c->umask_value);
  if (c->nofile_soft != 0) {
    rlimit limit{};
    if (::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit) == 0 && limit.rlim_cur > c->nofile_soft) {
      limit.rlim_cur = c->nofile_soft;
      ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, nullptr);
    }
  }
  // Raw syscalls: glibc's set*id wrappers would try to synchronise the parent's threads.
  if (c->set_gid) {
    if (::syscall(SYS_setgroups, c->group_count, c->groups) < 0) child_fail(c, "setgroups");
    if (::syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0) child_fail(c, "setgid");
  }
  if (c->set_uid && ::syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) child_fail(c, "setuid");
  sigset_t none;
  sigemptyset(&none);
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, _NSIG / 8);
  ::execve(c->path, c->argv, c->envp);
  child_fail(c, "exec");
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

void set_service_file_limit(unsigned long soft) { g_service_nofile = soft; }

std::string spawn_result::describe() const {
  if (ok()) return "running";
  return std::string{step} + ": " + std::strerror(error);
}

std::string find_executable(const std::string& name, const std::string& path_variable) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
  size_t start = 0;
  while (start <= path_variable.size()) {
    size_t end = path_variable.find(':', start);
    if (end == std::string::npos) end = path_variable.size();
    std::string dir = path_variable.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    start = end + 1;
  }
  return {};
}

spawn_result spawn_process(const spawn_spec& spec) {
  spawn_result result;
  if (spec.argv.empty()) {
    result.error = EINVAL;
    result.step = "exec";
    return result;
  }
  std::string path = spec.argv[0];
  if (path.find('/') == std::string::npos) {
    std::string search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : spec.env) {
      if (e.rfind("PATH=", 0) == 0) search = e.substr(5);
    }
    path = find_executable(path, search);
    if (path.empty()) {
      result.error = ENOENT;
      result.step = "exec";
      return result;
    }
  }

  int devnull = -1;
  if (spec.stdin_fd < 0 || spec.stdout_fd < 0) {
    devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
      result.error = errno;
      result.step = "open /dev/null";
      return result;
    }
  }
  auto argv = c_strings(spec.argv);
  std::vector<std::string> env = spec.env;
  for (const auto& name : spec.pid_variables) env.push_back(name + "=" + std::string(12, ' '));
  auto envp = c_strings(env);
  auto ctx = std::make_unique<child_context>();
  ctx->path = path.c_str();
  ctx->argv = argv.data();
  ctx->envp = envp.data();
  ctx->workdir = spec.workdir.empty() ? nullptr : spec.workdir.c_str();
  ctx->sources[0] = spec.stdin_fd >= 0 ? spec.stdin_fd : devnull;
  ctx->sources[1] = spec.stdout_fd >= 0 ? spec.stdout_fd : devnull;
  ctx->sources[2] = spec.stderr_fd >= 0 ? spec.stderr_fd : ctx->sources[1];
  for (int i = 0; i < 3; ++i) ctx->targets[i] = i;
  ctx->fd_count = 3;
  for (const auto& [target, source] : spec.extra_fds) {
    if (ctx->fd_count == 64 || target < 3 || target >= kHighFdBase) continue;
    ctx->targets[ctx->fd_count] = target;
    ctx->sources[ctx->fd_count++] = source;
  }
  const size_t first_pid_variable = spec.env.size();
  for (size_t i = 0; i < spec.pid_variables.size() && i < 8; ++i) {
    ctx->pid_slots[ctx->pid_slot_count++] = envp[first_pid_variable + i];
  }
  ctx->new_session = spec.new_session;
  ctx->set_gid = spec.gid.has_value();
  ctx->gid = spec.gid.value_or(0);
  ctx->groups = spec.supplementary_groups.data();
  ctx->group_count = spec.supplementary_groups.size();
  ctx->set_uid = spec.uid.has_value();
  ctx->uid = spec.uid.value_or(0);
  ctx->set_umask = spec.umask.has_value();
  ctx->umask_value = spec.umask.value_or(022);
  ctx->nofile_soft = g_service_nofile;

  auto stack = std::make_unique<char[]>(kChildStackSize);
  // No signal handler may run on the child's stack while it shares our memory.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  const pid_t pid = ::clone(child_main, stack.get() + kChildStackSize, CLONE_VM | CLONE_VFORK | SIGCHLD, ctx.get());
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (devnull >= 0) ::close(devnull);

  if (pid < 0) {
    result.error = clone_errno;
    result.step = "fork";
    return result;
  }
  // CLONE_VFORK: the child has exec'd or exited by now. A failed child is reaped here (unless the
  // reaper's waitpid(-1) was faster; it drops exits nobody claims).
  if (ctx->step != nullptr) {
    int status;
    ::waitpid(pid, &status, WNOHANG);
    result.error = ctx->error;
    result.step = ctx->step;
    return result;
  }
  result.pid = pid;
  return result;
}

}  // namespace dynamod
