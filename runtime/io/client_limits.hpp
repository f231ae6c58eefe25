// How much the control socket's clients may hold of the runtime: sessions per uid and in total, and bytes of
// queued replies per session and for all of them together. Pure policy (plus one atomic counter shared by the
// sessions, which run on several scheduler threads); the listener and the sessions carry it out.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>

namespace dynamod {

struct client_limits {
  size_t sessions_per_uid = 64;  // an unprivileged uid
  size_t sessions_total = 1024;  // all unprivileged clients together
  size_t admin_reserve = 64;     // sessions beyond the total that only an admin may open: root always gets in
  size_t reply_bytes_per_session = 4 * 1024 * 1024;  // a client that leaves more unread is dropped (one reply
                                                     // alone may be larger: a frame is at most 16 MiB)
  size_t reply_bytes_total = 64 * 1024 * 1024;       // all clients together
  // Over the total, a session that holds more than this is dropped; one that holds less may still queue its
  // reply, so a well-behaved client (an admin's status) is served while others flood.
  size_t reply_bytes_fair_share = 64 * 1024;
  // `tree` walks every actor and builds ~400 bytes per service: this many at once for all clients; the others
  // wait their turn (a client that leaves meanwhile costs nothing more).
  size_t trees_in_flight = 4;
};

// Sessions open, per uid. `admin` (root, or the runtime's own user) is limited only by total + reserve.
class session_admission {
 public:
  explicit session_admission(client_limits limits = {}) : limits_(limits) {}
  // Counts the session and returns true if the client may open it.
  bool admit(uid_t uid, bool admin);
  void release(uid_t uid);
  size_t total() const { return total_; }
  size_t of(uid_t uid) const;

 private:
  client_limits limits_;
  std::map<uid_t, size_t> per_uid_;
  size_t total_ = 0;
};

// May a session holding `queued` bytes add `more`, while all sessions together hold `all`?
bool may_queue_reply(const client_limits& limits, size_t queued, size_t more, size_t all);

// What all sessions hold together, shared by them: bytes of replies, and `tree` fan-outs in flight.
class client_load {
 public:
  void add(size_t n) { held_.fetch_add(n, std::memory_order_relaxed); }
  void remove(size_t n) { held_.fetch_sub(n, std::memory_order_relaxed); }
  size_t held() const { return held_.load(std::memory_order_relaxed); }
  // Takes one of `max` slots for a tree; false if all are taken.
  bool try_begin_tree(size_t max) {
    size_t n = trees_.load(std::memory_order_relaxed);
    while (n < max) {
      if (trees_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  void end_tree() { trees_.fetch_sub(1, std::memory_order_relaxed); }
  size_t trees() const { return trees_.load(std::memory_order_relaxed); }

 private:
  std::atomic<size_t> held_{0};
  std::atomic<size_t> trees_{0};
};

// Logs a recurring condition once per interval and counts the occurrences in between, so an attack that makes
// it happen thousands of times a second costs one line per interval.
class log_throttle {
 public:
  using clock = std::chrono::steady_clock;
  explicit log_throttle(clock::duration interval) : interval_(interval) {}
  // True if this occurrence should be logged; then `suppressed()` is how many were not since the last line.
  bool occurred(clock::time_point now);
  uint64_t suppressed() const { return suppressed_; }

 private:
  clock::duration interval_;
  bool logged_once_ = false;
  clock::time_point last_{};
  uint64_t pending_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace dynamod
