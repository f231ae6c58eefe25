// Which pids belong to services (told by the runtime with `track`), and the exit statuses of those
// that PID 1 reaped itself because the runtime was gone: they are queued until a runtime can take
// them, so a restarted runtime learns how its re-adopted services ended. Fixed size, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace dynamod::init {

struct orphan_exit {
  pid_t pid;
  int wait_status;
};

class orphan_registry {
 public:
  static constexpr size_t kTrackCapacity = 16384;  // power of two
  static constexpr size_t kQueueCapacity = 2048;

  // Returns false when the table is full (the pid is then not tracked).
  bool track(pid_t pid);
  void untrack(pid_t pid);
  bool is_tracked(pid_t pid) const;
  size_t tracked_count() const { return tracked_; }

  // PID 1 reaped `pid`. If it was tracked, it is untracked and its status queued; returns whether it was.
  bool on_reaped(pid_t pid, int wait_status);

  bool has_pending() const { return queue_size_ > 0; }
  size_t pending_count() const { return queue_size_; }
  const orphan_exit& front() const { return queue_[queue_head_]; }
  void pop();
  // Statuses dropped because the queue was full.
  size_t dropped() const { return dropped_; }

 private:
  size_t find_slot(pid_t pid) const;  // slot holding pid, or the first reusable slot of its chain
  void rebuild();                      // drops tombstones left by untrack

  static constexpr pid_t kEmpty = 0;
  static constexpr pid_t kDeleted = -1;
  pid_t slots_[kTrackCapacity] = {};
  size_t tracked_ = 0;
  size_t used_slots_ = 0;  // tracked + tombstones: bounded so lookups terminate
  pid_t scratch_[kTrackCapacity] = {};

  orphan_exit queue_[kQueueCapacity] = {};
  size_t queue_head_ = 0;
  size_t queue_size_ = 0;
  size_t dropped_ = 0;
};

}  // namespace dynamod::init
