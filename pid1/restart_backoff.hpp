// The schedule PID 1 uses to restart a runtime that exited: exponential, capped, and forgiven once
// the runtime has stayed up long enough; when quick exits mean a crash loop; how long to wait after a
// failing epoll_wait. Pure: callers pass the times in.
#pragma once

#include <cstdint>

namespace dynamod::init {

class restart_backoff {
 public:
  restart_backoff(uint32_t initial_ms, uint32_t max_ms, uint32_t reset_after_ms)
      : initial_ms_(initial_ms), max_ms_(max_ms), reset_after_ms_(reset_after_ms), next_ms_(initial_ms) {}

  // The runtime exited after running `uptime_ms`: returns how long to wait before starting it again.
  uint32_t on_exit(uint64_t uptime_ms) {
    if (uptime_ms >= reset_after_ms_) {
      next_ms_ = initial_ms_;
      consecutive_ = 0;
    }
    const uint32_t delay = next_ms_;
    next_ms_ = next_ms_ > max_ms_ / 2 ? max_ms_ : next_ms_ * 2;
    ++consecutive_;
    return delay;
  }

  // Consecutive quick exits so far (1 after the first).
  uint32_t consecutive_failures() const { return consecutive_; }

 private:
  uint32_t initial_ms_;
  uint32_t max_ms_;
  uint32_t reset_after_ms_;
  uint32_t next_ms_;
  uint32_t consecutive_ = 0;
};

// A runtime that keeps crashing: `threshold` exits within `window_ms` (the original dynamod opens the
// emergency shell after 5 in 30 s). Reports true once per loop; the history then starts afresh.
class crash_loop_detector {
 public:
  static constexpr uint32_t kMaxThreshold = 16;
  crash_loop_detector(uint32_t threshold, uint64_t window_ms)
      : threshold_(threshold < 1 ? 1 : threshold > kMaxThreshold ? kMaxThreshold : threshold), window_ms_(window_ms) {}

  // The runtime exited unexpectedly at `now_ms`: true if that completes a crash loop.
  bool on_exit(uint64_t now_ms) {
    times_[next_] = now_ms;
    next_ = (next_ + 1) % threshold_;
    if (count_ < threshold_) ++count_;
    if (count_ < threshold_) return false;
    const uint64_t oldest = times_[next_];  // the ring is full: the slot to be overwritten next is the oldest
    if (now_ms - oldest > window_ms_) return false;
    count_ = 0;
    return true;
  }

 private:
  uint32_t threshold_;
  uint64_t window_ms_;
  uint64_t times_[kMaxThreshold] = {};
  uint32_t next_ = 0;
  uint32_t count_ = 0;
};

// Back-off for a call that fails persistently (epoll_wait): the caller sleeps `delay_ms` between tries,
// 10 ms doubling to 1 s, and logs only the first failure of a run and the recovery.
class error_backoff {
 public:
  // Returns the delay before the next try; `first` tells whether this failure starts a run (log it).
  uint32_t on_error(bool& first) {
    first = failures_ == 0;
    ++failures_;
    const uint32_t delay = next_ms_;
    next_ms_ = next_ms_ >= kMaxMs / 2 ? kMaxMs : next_ms_ * 2;
    return delay;
  }
  // Returns how many failures the run that just ended had (0 if none: nothing to log).
  uint64_t on_success() {
    const uint64_t n = failures_;
    failures_ = 0;
    next_ms_ = kInitialMs;
    return n;
  }

 private:
  static constexpr uint32_t kInitialMs = 10;
  static constexpr uint32_t kMaxMs = 1000;
  uint32_t next_ms_ = kInitialMs;
  uint64_t failures_ = 0;
};

}  // namespace dynamod::init
