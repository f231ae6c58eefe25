// Descriptors PID 1 keeps for the runtime: one per service log FIFO, handed over with SCM_RIGHTS on the
// IPC socket (hold_fifo). While PID 1 holds a FIFO open, the pipe and the output in it survive a runtime
// that died and a service that exited before the next runtime opened the FIFO again. Fixed tables, no heap;
// a FIFO is known by its device and inode (PID 1 asks fstat, the runtime never names descriptors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace dynamod::init {

class fd_holder {
 public:
  static constexpr size_t kCapacity = 32768;  // both FIFOs of 16384 services
  static constexpr size_t kPendingCapacity = 64;
  static constexpr size_t kReserve = 64;  // descriptors PID 1 keeps free for itself (spawns, files)

  enum class result : uint8_t { held, already_held, no_descriptor, not_a_fifo, full };

  // Like read(2) on the socket, through recvmsg(2): descriptors that arrive are queued (CLOEXEC) for the
  // next hold_fifo message. `truncated` is set when the kernel dropped descriptors (PID 1 out of them).
  ssize_t receive(int socket, void* buf, size_t size, bool& truncated);
  // hold_fifo: keeps the oldest queued descriptor (or closes it when it names a FIFO held already).
  result hold_next();
  // Keeps `fd` (ours from now on, closed on every outcome but `held`).
  result hold(int fd);
  // drop_fifo: closes the held descriptor of that FIFO; false if none.
  bool release(uint64_t device, uint64_t inode);
  // The channel closed: descriptors that arrived without their message are closed.
  void drop_pending();
  // The final phase of a shutdown: nothing is kept (the file systems are unmounted next).
  void close_all();
  size_t held() const { return count_; }

 private:
  struct entry {
    uint64_t device;
    uint64_t inode;
    int fd;  // -1: free
  };
  // Open addressing over (device, inode): hold and release are O(1), not a scan of every held FIFO (a boot of
  // ten thousand services hands over twenty thousand).
  static constexpr size_t kIndexSize = 2 * kCapacity;  // a power of two
  static constexpr uint32_t kEmpty = 0, kTombstone = 0xffffffffu;  // else: slot + 1
  size_t find(uint64_t device, uint64_t inode, size_t& at) const;
  void rebuild_index();
  entry table_[kCapacity] = {};
  uint32_t index_[kIndexSize] = {};
  uint32_t free_[kCapacity] = {};  // released slots, reused first
  size_t free_count_ = 0;
  size_t tombstones_ = 0;
  size_t count_ = 0;
  size_t used_ = 0;  // entries [0, used_) have been used
  int pending_[kPendingCapacity] = {};
  size_t pending_head_ = 0;
  size_t pending_size_ = 0;
};

const char* to_string(fd_holder::result r);

}  // namespace dynamod::init
