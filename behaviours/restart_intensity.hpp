// OTP's restart intensity, exactly as observed in Erlang/OTP 25 (../shared/spec/otp-supervisor.md §1):
// timestamps are whole seconds of a monotonic clock, the window is inclusive, and the supervisor gives
// up on the (MaxR+1)-th restart-eligible exit inside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <vector>

namespace dynamod::behaviours {

struct intensity_limit {
  int max_restarts = 1;    // OTP default intensity
  int period_seconds = 5;  // OTP default period
};

class restart_intensity {
 public:
  explicit restart_intensity(intensity_limit limit) : limit_(limit) {}

  // Records a restart-eligible exit at `now_seconds` (floor of the monotonic clock). Returns false when
  // the limit is exceeded: the supervisor must give up and the child is not restarted.
  bool add(int64_t now_seconds) {
    // OTP: drop entries strictly older than now - MaxT, then add now.
    const auto first_kept = std::find_if(entries_.begin(), entries_.end(),
                                         [&](int64_t t) { return t >= now_seconds - limit_.period_seconds; });
    entries_.erase(entries_.begin(), first_kept);
    entries_.push_back(now_seconds);
    return static_cast<int>(entries_.size()) <= limit_.max_restarts;
  }

  // Whether add(now_seconds) would stay within the limit, without recording anything.
  bool allows(int64_t now_seconds) const {
    const auto kept = std::count_if(entries_.begin(), entries_.end(),
                                    [&](int64_t t) { return t >= now_seconds - limit_.period_seconds; });
    return static_cast<int>(kept) + 1 <= limit_.max_restarts;
  }

  size_t entries() const { return entries_.size(); }
  const intensity_limit& limit() const { return limit_; }

 private:
  intensity_limit limit_;
  // Oldest first. A vector, not a deque: an empty deque already holds 512 bytes, once per child.
  std::vector<int64_t> entries_;
};

}  // namespace dynamod::behaviours
