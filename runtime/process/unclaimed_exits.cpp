#include "runtime/process/unclaimed_exits.hpp"

#include <algorithm>

namespace dynamod {

void unclaimed_exits::expire(time_point now) {
  std::erase_if(entries_, [&](const auto& e) { return now - e.second.at >= lifetime_; });
}

void unclaimed_exits::add(pid_t pid, int wait_status, uint64_t start_time, time_point now) {
  expire(now);
  if (entries_.size() >= max_ && entries_.count(pid) == 0) {
    entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                    [](const auto& a, const auto& b) { return a.second.at < b.second.at; }));
  }
  entries_[pid] = entry{wait_status, start_time, now};
}

std::optional<int> unclaimed_exits::claim(pid_t pid, std::optional<uint64_t> holder_start_time, time_point now) {
  expire(now);
  auto it = entries_.find(pid);
  if (it == entries_.end()) return std::nullopt;
  const entry e = it->second;
  entries_.erase(it);
  // Same start time: the very process (its record was read as a zombie, and /proc still shows it).
  if (holder_start_time && (e.start_time == 0 || *holder_start_time != e.start_time)) return std::nullopt;
  return e.status;
}

}  // namespace dynamod
