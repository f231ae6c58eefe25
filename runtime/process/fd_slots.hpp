// Low descriptor numbers reserved at start-up for handing descriptors to a new process.
//
// With a thousand services the runtime holds a few thousand descriptors (two log FIFOs each). A plain
// clone() copies that whole table into the child and execve() then closes every one of them again; on this
// path that was the largest cost of a restart. Instead, spawn_process places what the child needs (stdio,
// readiness fd, cgroup.procs) into a leased block of reserved low slots, clones with CLONE_FILES, and the
// child's first act, close_range(high_water, ~0, CLOSE_RANGE_UNSHARE), gives it a private table holding only
// the descriptors below the slots' high-water mark. Everything the runtime owns below that mark is
// close-on-exec, so the service starts with exactly what it was given.
#pragma once

namespace dynamod {

constexpr int kSlotsPerLease = 8;

// Reserves the slots. Call first in main, while the process is single-threaded. False when the kernel lacks
// close_range(CLOSE_RANGE_UNSHARE) (before 5.9): spawns then copy the table as fork() does.
bool reserve_fd_slots();

// A block of slots for one spawn, returned (filled with /dev/null again) when the lease ends.
class fd_slot_lease {
 public:
  fd_slot_lease() = default;
  fd_slot_lease(const fd_slot_lease&) = delete;
  fd_slot_lease& operator=(const fd_slot_lease&) = delete;
  ~fd_slot_lease();

  // Duplicates sources[i] into the block's slots (close-on-exec) and rewrites sources[i] to the slot's number.
  // False (nothing changed) when slots are not reserved, every block is in use, count exceeds the block,
  // or a duplication fails.
  bool place(int* sources, int count);

  // For the child: close_range(unshare_below(), ~0U, CLOSE_RANGE_UNSHARE) keeps only the fds below it.
  static int unshare_below();

 private:
  int block_ = -1;
  int used_ = 0;
};

}  // namespace dynamod
