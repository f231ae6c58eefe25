#include "pid1/switch_root.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pid1/dir_entries.hpp"
#include "pid1/init_log.hpp"

namespace dynamod::init {

namespace {

constexpr const char* kApiMounts[] = {"/dev", "/proc", "/sys", "/run"};
// An initramfs is shallow; deeper than this is not ours to walk (and would exhaust PID 1's stack).
constexpr unsigned kMaxDepth = 32;

}  // namespace

bool move_api_mounts(const char* new_root) {
  for (const char* source : kApiMounts) {
    char target[256];
    log_line l;
    l << new_root << source;
    if (l.size() + 1 > sizeof target) return false;
    std::memcpy(target, l.data(), l.size());
    target[l.size()] = '\0';
    struct stat st {};
    if (::stat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
      // Not ours to create: the new root is mounted read-only. Whatever runs there mounts its own.
      log_warning(log_line{} << target << " is missing; detaching " << source << " instead of moving it");
      if (::umount2(source, MNT_DETACH) < 0 && errno != EINVAL) {
        log_warning(log_line{} << "umount " << source << ": " << errno_text{errno});
      }
      continue;
    }
    if (::mount(source, target, nullptr, MS_MOVE, nullptr) < 0) {
      log_error(log_line{} << "cannot move " << source << " to " << target << ": " << errno_text{errno});
      return false;
    }
  }
  return true;
}

unsigned delete_tree_on_device(int dir_fd, unsigned long dev, uint64_t* freed, unsigned depth) {
  if (depth > kMaxDepth) return 1;
  char dents[4096];
  unsigned left = 0;
  for_each_dir_entry(dir_fd, dents, sizeof dents, [&](const char* name) {
    struct stat st {};
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      ++left;
      return true;
    }
    if (st.st_dev != dev) return true;  // another file system (the new root itself): not ours to delete
    if (S_ISDIR(st.st_mode)) {
      const int sub = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        ++left;
        return true;
      }
      left += delete_tree_on_device(sub, dev, freed, depth + 1);
      ::close(sub);
      // A directory holding a mount point stays (EBUSY or ENOTEMPTY): it is counted, not an error.
      if (::unlinkat(dir_fd, name, AT_REMOVEDIR) < 0) ++left;
    } else if (::unlinkat(dir_fd, name, 0) < 0) {
      ++left;
    } else if (st.st_nlink <= 1) {
      *freed += static_cast<uint64_t>(st.st_blocks) * 512;
    }
    return true;
  });
  return left;
}

bool switch_root(const char* new_root) {
  if (::chdir(new_root) < 0) {
    log_error(log_line{} << "chdir " << new_root << ": " << errno_text{errno});
    return false;
  }
  const int root_fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat root_st {};
  if (root_fd < 0 || ::fstat(root_fd, &root_st) < 0) {
    log_warning(log_line{} << "cannot open the initramfs root to free it: " << errno_text{errno});
  } else {
    uint64_t freed = 0;
    const unsigned left = delete_tree_on_device(root_fd, root_st.st_dev, &freed);
    // The new root's mount point is always left; anything more is RAM we could not give back.
    log_notice(log_line{} << "initramfs freed: " << (freed >> 10) << " KiB"
                          << (left > 1 ? " (some entries could not be removed)" : ""));
  }
  if (root_fd >= 0) ::close(root_fd);
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) {
    log_error(log_line{} << "cannot move " << new_root << " onto /: " << errno_text{errno});
    return false;
  }
  if (::chroot(".") < 0) {
    log_error(log_line{} << "chroot: " << errno_text{errno});
    return false;
  }
  if (::chdir("/") < 0) {
    log_error(log_line{} << "chdir /: " << errno_text{errno});
    return false;
  }
  return true;
}

}  // namespace dynamod::init
