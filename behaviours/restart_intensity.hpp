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
  // The recorded restarts, oldest first, for keeping them across a runtime restart (adoption state).
  const std::vector<int64_t>& history() const { return entries_; }
  // Puts back a kept history: entries outside the window at `now_seconds` (or from the future: another clock)
  // are dropped, and at most max_restarts + 1 are kept, as add() would have left them.
  void restore(std::vector<int64_t> history, int64_t now_seconds) {
    std::vector<int64_t> kept;
    for (int64_t t : history) {
      if (t >= now_seconds - limit_.period_seconds && t <= now_seconds) kept.push_back(t);
    }
    std::sort(kept.begin(), kept.end());
    const size_t cap = static_cast<size_t>(std::max(limit_.max_restarts, 0)) + 1;
    if (kept.size() > cap) kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(cap));
    entries_ = std::move(kept);
  }
  const intensity_limit& limit() const { return limit_; }

 private:
  intensity_limit limit_;
  // Oldest first. A vector, not a deque: an empty deque already holds 512 bytes, once per child.
  std::vector<int64_t> entries_;
};

}  // namespace dynamod::behaviours
