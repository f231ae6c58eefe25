#include "pid1/early_mounts.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"
#include "pid1/mountinfo.hpp"

namespace dynamod::init {

namespace {

struct api_mount {
  const char* target;
  const char* fstype;
  const char* source;
  unsigned long flags;
  const char* data;
  mode_t mode;
  const char* preferred_data = nullptr;  // tried first; `data` if the kernel refuses it
};

// Order matters: /proc first (mountinfo lives there), /dev before /dev/pts and /dev/shm.
constexpr api_mount kApiMounts[] = {
    {"/proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr, 0555},
    {"/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr, 0555},
    {"/dev", "devtmpfs", "devtmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755", 0755},
    {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666", 0755},
    {"/dev/shm", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777", 01777},
    {"/run", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=0755", 0755},
    // favordynmods (Linux 6.0+): moving a process into a cgroup no longer waits for an RCU grace period (the
    // threadgroup lock's writers stop paying for its readers' fast path); a boot creates a cgroup per service.
    {"/sys/fs/cgroup", "cgroup2", "cgroup2", MS_NOSUID | MS_NOEXEC | MS_NODEV, "nsdelegate", 0555,
     "nsdelegate,favordynmods"},
};

char g_mountinfo[16384];
mount_entry g_entry;

// Streams the whole of mountinfo (an initramfs or container may have mounted a lot already).
bool already_mounted(const api_mount& m) {
  const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  // Without /proc there is no mountinfo: nothing is mounted yet.
  if (fd < 0) return false;
  int context = fd;
  mountinfo_stream stream{g_mountinfo, sizeof g_mountinfo, read_fd_chunk, &context};
  bool found = false;
  while (!found && stream.next(g_entry)) found = std::strcmp(g_entry.mount_point, m.target) == 0;
  ::close(fd);
  return found;
}

}  // namespace

void mount_api_filesystems() {
  for (const api_mount& m : kApiMounts) {
    if (already_mounted(m)) {
      log_debug(log_line{} << m.target << " already mounted");
      continue;
    }
    if (const int rc = make_directories(m.target, m.mode); rc < 0) {
      log_warning(log_line{} << "cannot create " << m.target << ": " << errno_text{-rc});
    }
    if (m.preferred_data && ::mount(m.source, m.target, m.fstype, m.flags, m.preferred_data) == 0) {
      log_debug(log_line{} << "mounted " << m.fstype << " on " << m.target << " (" << m.preferred_data << ")");
      continue;
    }
    if (::mount(m.source, m.target, m.fstype, m.flags, m.data) < 0) {
      const int err = errno;
      log_warning(log_line{} << "mount " << m.fstype << " on " << m.target << " failed: " << errno_text{err});
      continue;
    }
    log_debug(log_line{} << "mounted " << m.fstype << " on " << m.target);
  }
}

}  // namespace dynamod::init
