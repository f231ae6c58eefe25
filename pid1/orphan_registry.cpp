#include "pid1/orphan_registry.hpp"

namespace dynamod::init {

namespace {
size_t hash_pid(pid_t pid) { return static_cast<size_t>(static_cast<uint32_t>(pid) * 2654435761u); }
}  // namespace

size_t orphan_registry::find_slot(pid_t pid) const {
  const size_t mask = kTrackCapacity - 1;
  size_t first_free = kTrackCapacity;
  for (size_t i = hash_pid(pid) & mask, probes = 0; probes < kTrackCapacity; i = (i + 1) & mask, ++probes) {
    if (slots_[i] == pid) return i;
    if (slots_[i] == kDeleted && first_free == kTrackCapacity) first_free = i;
    if (slots_[i] == kEmpty) return first_free != kTrackCapacity ? first_free : i;
  }
  return first_free;
}

void orphan_registry::rebuild() {
  size_t n = 0;
  for (pid_t p : slots_) {
    if (p > 0) scratch_[n++] = p;
  }
  for (pid_t& p : slots_) p = kEmpty;
  tracked_ = used_slots_ = 0;
  for (size_t i = 0; i < n; ++i) {
    slots_[find_slot(scratch_[i])] = scratch_[i];
    ++tracked_;
    ++used_slots_;
  }
}

bool orphan_registry::track(pid_t pid) {
  if (pid <= 0) return false;
  if (used_slots_ + 1 > kTrackCapacity / 4 * 3 && used_slots_ > tracked_) rebuild();
  const size_t slot = find_slot(pid);
  if (slot == kTrackCapacity) return false;
  if (slots_[slot] == pid) return true;
  // Keep a quarter of the table empty so probe chains stay short and terminate.
  if (slots_[slot] == kEmpty && used_slots_ + 1 > kTrackCapacity / 4 * 3) return false;
  if (slots_[slot] == kEmpty) ++used_slots_;
  slots_[slot] = pid;
  ++tracked_;
  return true;
}

void orphan_registry::untrack(pid_t pid) {
  if (pid <= 0) return;
  const size_t slot = find_slot(pid);
  if (slot == kTrackCapacity || slots_[slot] != pid) return;
  slots_[slot] = kDeleted;
  --tracked_;
}

bool orphan_registry::is_tracked(pid_t pid) const {
  if (pid <= 0) return false;
  const size_t slot = find_slot(pid);
  return slot != kTrackCapacity && slots_[slot] == pid;
}

bool orphan_registry::on_reaped(pid_t pid, int wait_status) {
  if (!is_tracked(pid)) return false;
  untrack(pid);
  if (queue_size_ == kQueueCapacity) {
    pop();  // keep the newest: an old exit is the least likely to still matter
    ++dropped_;
  }
  queue_[(queue_head_ + queue_size_) % kQueueCapacity] = orphan_exit{pid, wait_status};
  ++queue_size_;
  return true;
}

void orphan_registry::pop() {
  if (queue_size_ == 0) return;
  queue_head_ = (queue_head_ + 1) % kQueueCapacity;
  --queue_size_;
}

}  // namespace dynamod::init
