#include "pid1/final_shutdown.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pid1/early_mounts.hpp"
#include "pid1/dir_entries.hpp"
#include "pid1/file_io.hpp"
#include "pid1/heap_guard.hpp"
#include "pid1/init_log.hpp"
#include "pid1/mountinfo.hpp"
#include "pid1/proc_stat.hpp"
#include "pid1/random_seed.hpp"

namespace dynamod::init {

using protocol::power_mode;

namespace {

void reap_all() {
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

// Counts user processes other than ourselves (kernel threads are children of kthreadd, pid 2).
// `example` receives one of them for the log. Uses getdents64 directly: opendir allocates.
int count_processes(char* example, size_t example_capacity) {
  static char dents[16384];
  const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  int count = 0;
  example[0] = '\0';
  for_each_dir_entry(dir, dents, sizeof dents, [&](const char* name) {
    if (name[0] < '1' || name[0] > '9') return true;
    char path[64] = "/proc/";
    std::strncat(path, name, 20);
    std::strcat(path, "/stat");
    char stat[512];
    const long len = read_file(path, stat, sizeof stat);
    int pid = 0, ppid = 0;
    char comm[32];
    if (len <= 0 || !parse_proc_stat(stat, static_cast<unsigned long>(len), pid, comm, sizeof comm, ppid)) {
      return true;
    }
    if (pid == 1 || pid == ::getpid() || pid == 2 || ppid == 2) return true;
    if (count == 0) {
      log_line l;
      l << comm << " (pid " << pid << ")";
      const size_t m = l.size() < example_capacity - 1 ? l.size() : example_capacity - 1;
      std::memcpy(example, l.data(), m);
      example[m] = '\0';
    }
    ++count;
    return true;
  });
  ::close(dir);
  return count;
}

// Waits until no process is left or `timeout_ms` passed, reaping as it goes. Returns the count left.
int wait_for_processes(uint32_t timeout_ms) {
  const uint64_t deadline = monotonic_ms() + timeout_ms;
  uint64_t next_report = monotonic_ms() + 1000;
  char example[96];
  for (;;) {
    reap_all();
    const int left = count_processes(example, sizeof example);
    if (left == 0) return 0;
    const uint64_t now = monotonic_ms();
    if (now >= deadline) return left;
    if (now >= next_report) {
      log_notice(log_line{} << "waiting for " << left << " process(es) to exit, e.g. " << example << "; "
                            << "SIGKILL in " << duration_text{deadline - now});
      next_report = now + 1000;
    }
    sleep_ms(20);
  }
}

void kill_everything() {
  log_notice(log_line{} << "sending SIGTERM to all processes");
  if (::kill(-1, SIGTERM) < 0 && errno != ESRCH) log_warning(log_line{} << "kill(-1, SIGTERM): " << errno_text{errno});
  // Stopped processes cannot act on SIGTERM until continued.
  if (::kill(-1, SIGCONT) < 0 && errno != ESRCH) log_debug(log_line{} << "kill(-1, SIGCONT): " << errno_text{errno});
}

char g_mountinfo_buffer[16384];
unmount_tail g_tail;
mount_entry g_entry;

// One pass over mountinfo: collects the newest mounts still to unmount. False if mountinfo cannot be read.
bool collect_tail() {
  const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    log_warning(log_line{} << "cannot open /proc/self/mountinfo: " << errno_text{errno});
    return false;
  }
  int context = fd;
  mountinfo_stream stream{g_mountinfo_buffer, sizeof g_mountinfo_buffer, read_fd_chunk, &context};
  g_tail.begin_pass();
  while (stream.next(g_entry)) g_tail.offer(g_entry);
  if (stream.malformed_lines() + stream.overlong_lines() > 0) {
    log_warning(log_line{} << "mountinfo: " << stream.malformed_lines() << " unparsable and "
                           << stream.overlong_lines() << " overlong line(s) skipped");
  }
  if (stream.error() != 0) log_warning(log_line{} << "reading mountinfo: " << errno_text{stream.error()});
  ::close(fd);
  return true;
}

// Unmounts newest first, in passes over the live mountinfo (so nothing is cut however many mounts there
// are, and mounts that went away with a parent are simply no longer listed).
void unmount_all() {
  unsigned long unmounted = 0;
  unsigned long lazy = 0;
  while (collect_tail() && g_tail.size() > 0) {
    for (size_t i = 0; i < g_tail.size(); ++i) {
      const char* target = g_tail.mount_point(i);
      if (::umount2(target, 0) == 0) {
        ++unmounted;
        log_debug(log_line{} << "unmounted " << target);
        continue;
      }
      const int err = errno;
      if (err == EINVAL || err == ENOENT) {
        // Already gone with a parent, or not a mount point at this path (shadowed): not ours to retry.
        if (!g_tail.give_up(g_tail.id(i))) break;
        continue;
      }
      if (::umount2(target, MNT_DETACH) == 0) {
        ++unmounted;
        ++lazy;
        log_notice(log_line{} << "lazily unmounted busy " << target << " (" << errno_text{err} << ")");
        continue;
      }
      log_warning(log_line{} << "cannot unmount " << target << ": " << errno_text{errno});
      if (!g_tail.give_up(g_tail.id(i))) break;
    }
    if (g_tail.given_up_count() == unmount_tail::kMaxGivenUp) {
      log_warning(log_line{} << "too many mounts that cannot be unmounted; leaving the rest");
      break;
    }
  }
  log_notice(log_line{} << "unmounted " << unmounted << " filesystem(s), " << lazy << " of them lazily; "
                        << g_tail.given_up_count() << " could not be unmounted or were gone");
}
}  // namespace

void finish_shutdown(power_mode mode, const init_options& options, bool container_mode) {
  kill_everything();
  int left = wait_for_processes(options.kill_grace_ms);
  if (left > 0) {
    log_notice(log_line{} << left << " process(es) ignored SIGTERM; sending SIGKILL");
    if (::kill(-1, SIGKILL) < 0 && errno != ESRCH) log_warning(log_line{} << "kill(-1, SIGKILL): " << errno_text{errno});
    left = wait_for_processes(2000);
    if (left > 0) log_warning(log_line{} << left << " process(es) survived SIGKILL (uninterruptible sleep?)");
  } else {
    log_notice(log_line{} << "all processes exited");
  }
  log_notice(log_line{} << "heap allocations after start: " << heap_guard_violations());

  if (container_mode) {
    log_notice(log_line{} << "container " << protocol::to_string(mode) << ": exiting");
    ::_exit(0);
  }

  save_random_seed();
  ::sync();
  unmount_all();
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr) < 0) {
    log_warning(log_line{} << "cannot remount / read-only: " << errno_text{errno});
  } else {
    log_notice(log_line{} << "remounted / read-only");
  }
  ::sync();

  int cmd = RB_POWER_OFF;
  if (mode == power_mode::reboot) cmd = RB_AUTOBOOT;
  if (mode == power_mode::halt) cmd = RB_HALT_SYSTEM;
  log_notice(log_line{} << "calling reboot(2): " << protocol::to_string(mode));
  ::reboot(cmd);
  // Only reached if the kernel refused: stay alive, as PID 1 must.
  log_error(log_line{} << "reboot(2) failed: " << errno_text{errno} << "; halting here");
  for (;;) ::pause();
}

}  // namespace dynamod::init
