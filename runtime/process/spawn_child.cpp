#include "runtime/process/spawn_child.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "runtime/process/isolation_plan.hpp"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SECCOMP_MODE_FILTER
#define SECCOMP_MODE_FILTER 2
#endif

namespace dynamod::spawn_internal {

namespace {

constexpr int kHighFdBase = 1000;  // sources are parked above every target before the final dup2s

[[noreturn]] void fail(child_context* c, const char* step) {
  c->error = errno;
  c->step = step;
  ::_exit(127);
}

// "read-only " + path into the context's own buffer: no allocation in the child.
[[noreturn]] void fail_on(child_context* c, const char* what, const char* path) {
  const int saved = errno;
  size_t n = 0;
  for (const char* p = what; *p && n + 1 < sizeof c->step_text; ++p) c->step_text[n++] = *p;
  for (const char* p = path; *p && n + 1 < sizeof c->step_text; ++p) c->step_text[n++] = *p;
  c->step_text[n] = '\0';
  errno = saved;
  fail(c, c->step_text);
}

bool write_all(const char* path, const char* text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t len = ::strlen(text);
  const bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  ::close(fd);
  return ok;
}

bool is_mount_point(const char* path) {
  struct statx stx {};
  if (::statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &stx) != 0) return false;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

bool set_read_only(const char* path, bool read_only, bool recursive) {
  mount_attr attr{};
  (read_only ? attr.attr_set : attr.attr_clr) = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) == 0) return true;
  if (errno != ENOSYS) return false;
  // Before Linux 5.12: the top mount only.
  return ::mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | (read_only ? MS_RDONLY : 0), nullptr) == 0;
}

void do_mount(child_context* c, const child_mount& m) {
  using kind = mount_step::kind;
  struct stat st {};
  if (m.optional && ::stat(m.target, &st) != 0) return;
  switch (static_cast<kind>(m.kind)) {
    case kind::make_slave:
      if (::mount(nullptr, m.target, nullptr, MS_REC | MS_SLAVE, nullptr) < 0) fail_on(c, "mount propagation ", m.target);
      return;
    case kind::read_only:
      if (!is_mount_point(m.target) && ::mount(m.target, m.target, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
        fail_on(c, "read-only ", m.target);
      }
      if (!set_read_only(m.target, true, true)) fail_on(c, "read-only ", m.target);
      return;
    case kind::writable:
      if (!set_read_only(m.target, false, true)) fail_on(c, "writable ", m.target);
      return;
    case kind::bind:
      if (::mount(m.source, m.target, nullptr, MS_BIND | MS_REC, nullptr) < 0) fail_on(c, "bind-mount onto ", m.target);
      return;
    case kind::tmpfs:
      if (::mount("tmpfs", m.target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0) fail_on(c, "private ", m.target);
      return;
    case kind::proc:
      if (::mount("proc", m.target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) fail_on(c, "mount ", m.target);
      return;
    case kind::inaccessible:
      if (::stat(m.target, &st) != 0) fail_on(c, "inaccessible ", m.target);
      if (S_ISDIR(st.st_mode)) {
        if (::mount("tmpfs", m.target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000") < 0) {
          fail_on(c, "inaccessible ", m.target);
        }
      } else if (::mount(m.source, m.target, nullptr, MS_BIND, nullptr) < 0 || !set_read_only(m.target, true, false)) {
        fail_on(c, "inaccessible ", m.target);
      }
      return;
  }
}

void bring_up_loopback(child_context* c) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail(c, "loopback socket");
  ifreq ifr{};
  ::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail(c, "loopback flags");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail(c, "loopback up");
  ::close(s);
}

void set_capabilities(child_context* c, uint64_t mask) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    const auto part = static_cast<uint32_t>(mask >> (32 * i));
    data[i].effective = data[i].permitted = data[i].inheritable = part;
  }
  if (::syscall(SYS_capset, &header, data) < 0) fail(c, "capset");
}

void write_pid_slots(child_context* c) {
  // The pid is ours only now; the slots live in the parent's memory, which we share until exec.
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

}  // namespace

int child_main(void* arg) {
  auto* c = static_cast<child_context*>(arg);
  // First, while the table is still the runtime's: a private one with only the low fds (fd_slots.hpp).
  if (c->unshare_fds_below > 0 &&
      ::syscall(SYS_close_range, static_cast<unsigned>(c->unshare_fds_below), ~0U, CLOSE_RANGE_UNSHARE) < 0) {
    fail(c, "unsharing the descriptor table");
  }
  // Into the service's cgroup before anything else: nothing this process becomes ever runs outside it.
  if (c->cgroup_procs_fd >= 0 && ::write(c->cgroup_procs_fd, "0", 1) != 1) fail(c, "joining the service's cgroup");
  if (c->cgroup_namespace && ::unshare(CLONE_NEWCGROUP) < 0) fail(c, "cgroup namespace");
  // The one disposition the runtime changes (SIGPIPE ignored) must not leak into services; it installs no
  // handlers (signals arrive through a signalfd), and exec resets handled signals anyway.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::syscall(SYS_rt_sigaction, SIGPIPE, &dfl, nullptr, _NSIG / 8);
  if (c->new_session && ::setsid() < 0) fail(c, "setsid");
  for (int i = 0; i < c->mount_count; ++i) do_mount(c, c->mounts[i]);
  if (c->hostname && ::sethostname(c->hostname, ::strlen(c->hostname)) < 0) fail(c, "sethostname");
  if (c->loopback_up) bring_up_loopback(c);
  // Park every source fd above all targets, then place them: no source is clobbered by a target.
  int parked[kMaxFds];
  for (int i = 0; i < c->fd_count; ++i) {
    parked[i] = ::fcntl(c->sources[i], F_DUPFD_CLOEXEC, kHighFdBase);
    if (parked[i] < 0) fail(c, "dup fd");
  }
  for (int i = 0; i < c->fd_count; ++i) {
    if (::dup2(parked[i], c->targets[i]) < 0) fail(c, "dup2");
  }
  if (c->pid_slot_count > 0) write_pid_slots(c);
  if (c->workdir && ::chdir(c->workdir) < 0) fail(c, "chdir");
  if (c->set_umask) ::umask(c->umask_value);
  if (c->nofile_soft != 0) {
    rlimit limit{};
    if (::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit) == 0 && limit.rlim_cur > c->nofile_soft) {
      limit.rlim_cur = c->nofile_soft;
      ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, nullptr);
    }
  }
  for (int i = 0; i < c->rlimit_count; ++i) {
    rlimit limit{c->rlimits[i].soft, c->rlimits[i].hard};
    if (::syscall(SYS_prlimit64, 0, c->rlimits[i].resource, &limit, nullptr) < 0) fail(c, "setrlimit");
  }
  // The bounding set can only shrink while we still have CAP_SETPCAP, i.e. before leaving root.
  if (c->drop_bounding) {
    for (int cap = 0; cap <= c->last_capability; ++cap) {
      if (!(c->bounding_keep & (uint64_t{1} << cap)) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
        fail(c, "dropping capabilities");
      }
    }
  }
  const bool ambient = c->ambient != 0 && c->set_uid && c->uid != 0;
  if (ambient && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(c, "keeping capabilities");
  // Raw syscalls: glibc's set*id wrappers would try to synchronise the parent's threads.
  if (c->set_gid) {
    if (::syscall(SYS_setgroups, c->group_count, c->groups) < 0) fail(c, "setgroups");
    if (::syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0) fail(c, "setgid");
  }
  if (c->set_uid && ::syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) fail(c, "setuid");
  if (ambient) {
    set_capabilities(c, c->ambient);
    for (int cap = 0; cap <= c->last_capability; ++cap) {
      if ((c->ambient & (uint64_t{1} << cap)) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
        fail(c, "ambient capabilities");
      }
    }
  }
  if (c->user_namespace) {
    // Root inside, the service's user outside: a process may map its own ids without privilege.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // set*id made /proc/self root's; the maps must be ours to write
    if (::unshare(CLONE_NEWUSER) < 0) fail(c, "user namespace");
    if (!write_all("/proc/self/setgroups", "deny") || !write_all("/proc/self/uid_map", c->uid_map) ||
        !write_all("/proc/self/gid_map", c->gid_map)) {
      fail(c, "user namespace id maps");
    }
  }
  if (c->no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(c, "no_new_privs");
  // Last: from here on the filter applies, and only execve is left to do.
  if (c->seccomp && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->seccomp, 0, 0) < 0) fail(c, "seccomp");
  sigset_t none;
  sigemptyset(&none);
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, _NSIG / 8);
  ::execve(c->path, c->argv, c->envp);
  fail(c, "exec");
}

}  // namespace dynamod::spawn_internal
