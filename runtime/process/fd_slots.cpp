#include "runtime/process/fd_slots.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace dynamod {

namespace {

constexpr int kBlocks = 4;  // two scheduler threads spawn; more blocks only in case of detached spawners

int g_null = -1;
int g_slots[kBlocks][kSlotsPerLease];
int g_high_water = 0;  // one above the highest slot
std::atomic<bool> g_busy[kBlocks];
bool g_reserved = false;

}  // namespace

bool reserve_fd_slots() {
  if (g_reserved) return true;
  // Fails with EINVAL (unknown flag) or ENOSYS on kernels without it. Single-threaded: nothing to unshare.
  if (::syscall(SYS_close_range, ~0U, ~0U, CLOSE_RANGE_UNSHARE) != 0) return false;
  int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  // A runtime started with stdin, stdout or stderr closed gets /dev/null there, not a slot.
  while (fd >= 0 && fd <= STDERR_FILENO) {
    ::fcntl(fd, F_SETFD, 0);
    fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return false;
  g_null = fd;
  for (auto& block : g_slots) {
    for (int& slot : block) {
      slot = ::fcntl(g_null, F_DUPFD_CLOEXEC, 0);
      if (slot < 0) return false;
      if (slot >= g_high_water) g_high_water = slot + 1;
    }
  }
  // Whatever else the runtime inherited below the mark would reach the child's private table: not past exec.
  for (int other = STDERR_FILENO + 1; other < g_high_water; ++other) {
    const int flags = ::fcntl(other, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) ::fcntl(other, F_SETFD, flags | FD_CLOEXEC);
  }
  g_reserved = true;
  return true;
}

int fd_slot_lease::unshare_below() { return g_high_water; }

bool fd_slot_lease::place(int* sources, int count) {
  if (!g_reserved || block_ >= 0 || count > kSlotsPerLease) return false;
  for (int b = 0; b < kBlocks; ++b) {
    bool expected = false;
    if (g_busy[b].compare_exchange_strong(expected, true)) {
      block_ = b;
      break;
    }
  }
  if (block_ < 0) return false;
  int placed[kSlotsPerLease];
  for (int i = 0; i < count; ++i) {
    const int slot = g_slots[block_][i];
    if (::dup3(sources[i], slot, O_CLOEXEC) < 0) {
      used_ = i;
      return false;  // the destructor puts /dev/null back into the slots used so far
    }
    placed[i] = slot;
  }
  used_ = count;
  for (int i = 0; i < count; ++i) sources[i] = placed[i];
  return true;
}

fd_slot_lease::~fd_slot_lease() {
  if (block_ < 0) return;
  // The slots must not keep what they carried: a readiness pipe's write end held here would hide its EOF.
  for (int i = 0; i < used_; ++i) ::dup3(g_null, g_slots[block_][i], O_CLOEXEC);
  g_busy[block_].store(false);
}

}  // namespace dynamod
