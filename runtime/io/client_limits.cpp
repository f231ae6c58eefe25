#include "runtime/io/client_limits.hpp"

namespace dynamod {

bool session_admission::admit(uid_t uid, bool admin) {
  if (admin) {
    if (total_ >= limits_.sessions_total + limits_.admin_reserve) return false;
  } else if (total_ >= limits_.sessions_total || of(uid) >= limits_.sessions_per_uid) {
    return false;
  }
  ++per_uid_[uid];
  ++total_;
  return true;
}

void session_admission::release(uid_t uid) {
  auto it = per_uid_.find(uid);
  if (it == per_uid_.end()) return;
  if (--it->second == 0) per_uid_.erase(it);
  --total_;
}

size_t session_admission::of(uid_t uid) const {
  auto it = per_uid_.find(uid);
  return it == per_uid_.end() ? 0 : it->second;
}

bool may_queue_reply(const client_limits& limits, size_t queued, size_t more, size_t all) {
  // An empty queue takes any one reply (a frame is at most 16 MiB): a big `logs` answer is not a slow client.
  if (queued > 0 && queued + more > limits.reply_bytes_per_session) return false;
  return all + more <= limits.reply_bytes_total || queued <= limits.reply_bytes_fair_share;
}

bool log_throttle::occurred(clock::time_point now) {
  if (logged_once_ && now - last_ < interval_) {
    ++pending_;
    return false;
  }
  logged_once_ = true;
  last_ = now;
  suppressed_ = pending_;
  pending_ = 0;
  return true;
}

}  // namespace dynamod
