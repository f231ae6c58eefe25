// Exits the reaper collected before anyone claimed them: a child that failed before its owner registered, or
// an orphan nobody owns. Kept briefly and bounded, and keyed by the pid *and* the process's start time, so that a
// later process that reuses the pid can never be told it "exited" at birth. Pure: no /proc, no clock of its own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace dynamod {

class unclaimed_exits {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  unclaimed_exits(size_t max_entries, std::chrono::steady_clock::duration lifetime)
      : max_(max_entries), lifetime_(lifetime) {}

  // `start_time`: the process's start time (/proc/PID/stat), read before it was reaped; 0 if unknown.
  void add(pid_t pid, int wait_status, uint64_t start_time, time_point now);
  // The owner of `pid` registers. `holder_start_time`: the start time of the process that holds the pid now
  // (nullopt: none does). A held pid belongs to a process started after the recorded one died (it was reaped,
  // so it cannot be that one): the record is stale and dropped. A free pid's record is the owner's exit.
  std::optional<int> claim(pid_t pid, std::optional<uint64_t> holder_start_time, time_point now);
  bool contains(pid_t pid) const { return entries_.count(pid) != 0; }  // (expired or not)
  size_t size() const { return entries_.size(); }

 private:
  struct entry {
    int status;
    uint64_t start_time;
    time_point at;
  };
  void expire(time_point now);

  size_t max_;
  std::chrono::steady_clock::duration lifetime_;
  std::unordered_map<pid_t, entry> entries_;
};

}  // namespace dynamod
