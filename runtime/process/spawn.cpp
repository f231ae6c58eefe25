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

#include "runtime/process/fd_slots.hpp"
#include "runtime/process/isolation_plan.hpp"
#include "runtime/process/spawn_child.hpp"
#include "runtime/security/capabilities.hpp"
#include "runtime/security/syscall_filter.hpp"

namespace dynamod {

namespace {

using spawn_internal::child_context;
using spawn_internal::child_main;

constexpr size_t kChildStackSize = 64 * 1024;
unsigned long g_service_nofile = 0;  // 0: leave as inherited

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

void set_service_file_limit(unsigned long soft) { g_service_nofile = soft; }

bool spawn_lacks_resources(int error, const std::string& step) {
  if (error == EMFILE || error == ENFILE) return true;
  return step == "fork" && (error == ENOMEM || error == EAGAIN);
}

std::string spawn_result::describe() const {
  if (ok()) return "running";
  return step + ": " + std::strerror(error);
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
  // With a minimal init, dynamod-nsinit is PID 1 of the new pid namespace and starts the service itself.
  const bool minimal_init = spec.isolation && spec.isolation->minimal_init;
  std::vector<std::string> args = spec.argv;
  if (minimal_init) {
    args.insert(args.begin(), {spec.nsinit, path});
    path = spec.nsinit;
  }
  auto argv = c_strings(args);
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
    if (ctx->fd_count == spawn_internal::kMaxFds || target < 3 || target >= 1000) continue;
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
  ctx->cgroup_procs_fd = spec.cgroup_procs_fd;
  ctx->last_capability = last_capability();
  std::string uid_map, gid_map;
  int clone_flags = 0;
  if (spec.isolation) {
    const isolation_plan& iso = *spec.isolation;
    clone_flags = iso.clone_flags;
    ctx->cgroup_namespace = iso.cgroup_namespace;
    for (const auto& m : iso.mounts) {
      if (ctx->mount_count == spawn_internal::kMaxMounts) break;
      ctx->mounts[ctx->mount_count++] = {static_cast<int>(m.what), m.target.c_str(), m.source.c_str(), m.optional};
    }
    ctx->hostname = iso.hostname.empty() ? nullptr : iso.hostname.c_str();
    ctx->loopback_up = iso.loopback_up;
    ctx->drop_bounding = iso.bounding.has_value();
    ctx->bounding_keep = iso.bounding.value_or(~uint64_t{0});
    ctx->ambient = iso.ambient;
    ctx->user_namespace = iso.user_namespace;
    uid_map = "0 " + std::to_string(spec.uid.value_or(0)) + " 1\n";
    gid_map = "0 " + std::to_string(spec.gid.value_or(0)) + " 1\n";
    ctx->uid_map = uid_map.c_str();
    ctx->gid_map = gid_map.c_str();
    ctx->no_new_privs = iso.no_new_privs;
    for (const auto& r : iso.rlimits) {
      if (ctx->rlimit_count == spawn_internal::kMaxRlimits) break;
      ctx->rlimits[ctx->rlimit_count++] = {r.resource, r.soft, r.hard};
    }
  }
  sock_fprog filter{};
  if (spec.seccomp && !spec.seccomp->code.empty()) {
    filter.len = static_cast<unsigned short>(spec.seccomp->code.size());
    filter.filter = const_cast<sock_filter*>(spec.seccomp->code.data());
    ctx->seccomp = &filter;
  }

  // Hand the child its descriptors through reserved low slots and share our table until it unshares the
  // part below them (fd_slots.hpp); if no slots are free, clone copies the table as fork() does.
  fd_slot_lease lease;
  int handed[spawn_internal::kMaxFds + 1];
  int handed_count = ctx->fd_count;
  for (int i = 0; i < ctx->fd_count; ++i) handed[i] = ctx->sources[i];
  if (ctx->cgroup_procs_fd >= 0) handed[handed_count++] = ctx->cgroup_procs_fd;
  if (lease.place(handed, handed_count)) {
    for (int i = 0; i < ctx->fd_count; ++i) ctx->sources[i] = handed[i];
    if (ctx->cgroup_procs_fd >= 0) ctx->cgroup_procs_fd = handed[ctx->fd_count];
    ctx->unshare_fds_below = fd_slot_lease::unshare_below();
    clone_flags |= CLONE_FILES;
  }

  auto stack = std::make_unique<char[]>(kChildStackSize);
  // No signal handler may run on the child's stack while it shares our memory.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  // With a pidfd the reaper learns of this child's exit from its descriptor, O(1), rather than from a
  // waitid(P_ALL) scan, which is O(children) in the kernel: quadratic in a stop of them all.
  int pidfd = -1;
  const pid_t pid = ::clone(child_main, stack.get() + kChildStackSize,
                            CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD | clone_flags, ctx.get(), &pidfd);
  const int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (devnull >= 0) ::close(devnull);

  if (pid < 0) {
    result.error = clone_errno;
    result.step = "fork";
    return result;
  }
  // CLONE_VFORK: the child has exec'd or exited by now. A failed child is reaped here (unless the reaper's
  // SIGCHLD scan was faster; it drops exits nobody claims).
  if (ctx->step != nullptr) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) ::close(pidfd);
    result.error = ctx->error;
    result.step = ctx->step;  // copied: it may point into ctx, which goes with this function
    return result;
  }
  result.pid = pid;
  result.pidfd = pidfd;
  return result;
}

}  // namespace dynamod
