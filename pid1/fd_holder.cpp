#include "pid1/fd_holder.hpp"

#include <cerrno>
#include <cstring>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace dynamod::init {

const char* to_string(fd_holder::result r) {
  switch (r) {
    case fd_holder::result::held: return "held";
    case fd_holder::result::already_held: return "already held";
    case fd_holder::result::no_descriptor: return "no descriptor came with it";
    case fd_holder::result::not_a_fifo: return "not a FIFO";
    case fd_holder::result::full: return "no room (table or descriptor limit)";
  }
  return "unknown";
}

ssize_t fd_holder::receive(int socket, void* buf, size_t size, bool& truncated) {
  truncated = false;
  constexpr size_t kMaxFds = 16;
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  iovec iov{buf, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < fds; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (pending_size_ == kPendingCapacity) {
        ::close(fd);  // more descriptors than messages: the runtime misbehaves, keep nothing of it
        truncated = true;
        continue;
      }
      pending_[(pending_head_ + pending_size_) % kPendingCapacity] = fd;
      ++pending_size_;
    }
  }
  return n;
}

fd_holder::result fd_holder::hold_next() {
  if (pending_size_ == 0) return result::no_descriptor;
  const int fd = pending_[pending_head_];
  pending_head_ = (pending_head_ + 1) % kPendingCapacity;
  --pending_size_;
  return hold(fd);
}

namespace {
size_t hash_of(uint64_t device, uint64_t inode) {
  return static_cast<size_t>((inode * 0x9E3779B97F4A7C15ull) ^ (device * 0xC2B2AE3D27D4EB4Full) ^ (inode >> 29));
}
}  // namespace

// The slot holding (device, inode), or kCapacity. `at`: the index position of that entry if found, else where a
// new one would go (kIndexSize: nowhere).
size_t fd_holder::find(uint64_t device, uint64_t inode, size_t& at) const {
  const size_t mask = kIndexSize - 1;
  at = kIndexSize;
  for (size_t i = hash_of(device, inode) & mask, probes = 0; probes < kIndexSize; i = (i + 1) & mask, ++probes) {
    const uint32_t v = index_[i];
    if (v == kEmpty) {
      if (at == kIndexSize) at = i;
      return kCapacity;
    }
    if (v == kTombstone) {
      if (at == kIndexSize) at = i;
      continue;
    }
    const entry& e = table_[v - 1];
    if (e.fd >= 0 && e.device == device && e.inode == inode) {
      at = i;
      return v - 1;
    }
  }
  return kCapacity;
}

void fd_holder::rebuild_index() {
  for (uint32_t& v : index_) v = kEmpty;
  tombstones_ = 0;
  for (size_t slot = 0; slot < used_; ++slot) {
    if (table_[slot].fd < 0) continue;
    size_t at = kIndexSize;
    (void)find(table_[slot].device, table_[slot].inode, at);
    if (at < kIndexSize) index_[at] = static_cast<uint32_t>(slot + 1);
  }
}

fd_holder::result fd_holder::hold(int fd) {
  struct stat s {};
  if (::fstat(fd, &s) < 0 || !S_ISFIFO(s.st_mode)) {
    ::close(fd);
    return result::not_a_fifo;
  }
  const uint64_t device = static_cast<uint64_t>(s.st_dev), inode = static_cast<uint64_t>(s.st_ino);
  size_t at = kIndexSize;
  if (find(device, inode, at) < kCapacity) {
    ::close(fd);  // a restarted runtime hands over the FIFOs again
    return result::already_held;
  }
  // Stay below our own descriptor limit: PID 1 must always be able to spawn and open files.
  rlimit limit{};
  const size_t budget = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > kReserve
                            ? static_cast<size_t>(limit.rlim_cur) - kReserve
                            : 0;
  if (count_ >= budget || at >= kIndexSize || (free_count_ == 0 && used_ >= kCapacity)) {
    ::close(fd);
    return result::full;
  }
  const size_t slot = free_count_ > 0 ? free_[--free_count_] : used_++;
  table_[slot] = entry{device, inode, fd};
  if (index_[at] == kTombstone) --tombstones_;
  index_[at] = static_cast<uint32_t>(slot + 1);
  ++count_;
  return result::held;
}

bool fd_holder::release(uint64_t device, uint64_t inode) {
  size_t at = kIndexSize;
  const size_t slot = find(device, inode, at);
  if (slot >= kCapacity) return false;
  ::close(table_[slot].fd);
  table_[slot].fd = -1;
  free_[free_count_++] = static_cast<uint32_t>(slot);
  --count_;
  index_[at] = kTombstone;  // not emptied: probe chains through it stay intact
  ++tombstones_;
  if (tombstones_ > kIndexSize / 4) rebuild_index();
  return true;
}

void fd_holder::drop_pending() {
  while (pending_size_ > 0) {
    ::close(pending_[pending_head_]);
    pending_head_ = (pending_head_ + 1) % kPendingCapacity;
    --pending_size_;
  }
}

void fd_holder::close_all() {
  drop_pending();
  for (size_t i = 0; i < used_; ++i) {
    if (table_[i].fd >= 0) ::close(table_[i].fd);
    table_[i].fd = -1;
  }
  for (uint32_t& v : index_) v = kEmpty;
  used_ = 0;
  count_ = 0;
  free_count_ = 0;
  tombstones_ = 0;
}

}  // namespace dynamod::init
