// The schedule PID 1 uses to restart a runtime that exited: exponential, capped, and forgiven once
// the runtime has stayed up long enough. Pure: callers pass the uptime in.
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

}  // namespace dynamod::init
