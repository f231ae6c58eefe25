// The generic part of an OTP supervisor, free of CAF, processes and clocks: it takes events (a child
// exited, a termination finished, shutdown requested) and returns commands (start this child, terminate
// that one, exit), enforcing the strategy, restart types and restart intensity exactly as
// ../shared/spec/otp-supervisor.md describes. actors/supervisor_actor carries the commands out.
//
// Differences from OTP, on purpose:
// - Starting is asynchronous: `start` commands for a group are issued together and the children's
//   processes start as their dependencies allow (the dependency graph replaces OTP's sequential start).
//   A child that fails to start simply exits; the strategy then applies, which for one_for_all and
//   rest_for_one is OTP's rollback (terminate the group again, restart it, one more intensity entry).
//   Within a group (re)start, a child starts only once the siblings it is ordered after have started (and
//   become ready) in this round: the supervisor marks the whole batch pending at the dependency tracker
//   before it spawns it, so no previous incarnation's `stopped` or `failed` counts. A start that fails in
//   the round ends it before later children start: a child ordered after a sibling in rolled_back_by()
//   that failed waits, and the rollback terminates it while it waits (OTP never starts a child after one
//   that failed to start).
// - dynamod adds a per-child intensity limit (a service's own max-restarts / max-restart-window);
//   exceeding it gives up exactly like exceeding the supervisor's.
// - With termination_order::by_dependencies (what the runtime uses), a run of terminations does not
//   go strictly one at a time: a child is terminated as soon as no sibling that depends on it, directly
//   or through other siblings, is still to be terminated or terminating; independent children stop
//   together. The dependencies count transitively even through a sibling that is already stopped: with
//   w1 <- w2 <- w3 and w2 dead, w3 still stops before w1. The order follows the chain the children were
//   started along, not which of its links happen to be up (w3 may hold what w2 got from w1, e.g. a
//   connection), as OTP's reverse start order would. In OTP, start order is the only encoding of
//   dependencies, hence its strict reverse order; dynamod has the dependencies themselves, and the order
//   among siblings that do not depend on each other carries no meaning. termination_order::strict is OTP's
//   behaviour.
// - give_up_mode::degrade, for the root of an init only (an init whose root gives up ends the system): a
//   restart that would exceed the supervisor's intensity or the child's own limit is not made and the
//   child stays down as `failed` (a `fail` command says why); the supervisor and every other child go on.
//   The exit that is not restarted adds no entry to either limit (OTP counts restarts only), so later
//   failures of other children inside the window are handled the same way. Only start_child (an operator
//   request) brings a failed child back, with a fresh history of its own limit. Sub-supervisors always
//   escalate (give_up_mode::escalate, OTP).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "behaviours/restart_intensity.hpp"

namespace dynamod::behaviours {

enum class strategy { one_for_one, one_for_all, rest_for_one, simple_one_for_one };
enum class restart_type { permanent, transient, temporary };
// OTP's view of an exit reason: `normal`, `shutdown` (incl. {shutdown, _}) or anything else.
enum class exit_kind { normal, shutdown, abnormal };

enum class termination_order { strict, by_dependencies };
// What reaching a restart limit does: OTP's give-up and escalation, or (root of an init) leave that child failed.
enum class give_up_mode { escalate, degrade };

struct child_spec {
  std::string id;
  restart_type restart = restart_type::permanent;
  std::optional<intensity_limit> own_limit;  // dynamod: the service's own max-restarts / window
  std::vector<std::string> depends_on{};     // siblings it needs (by_dependencies termination)
  // dynamod: false for a service started only when asked (systemctl disable): start() and a group restart leave
  // it stopped unless it ran.
  bool autostart = true;
};

struct command {
  enum class kind { start, terminate, exit, fail } what;
  std::string child;  // start, terminate, fail
  std::string note;   // exit: why the supervisor exits; fail: why the child stays down
  bool operator==(const command& o) const { return what == o.what && child == o.child; }
};

enum class child_state {
  running,      // an incarnation exists (it may still be waiting for dependencies or starting)
  terminating,  // we asked it to stop and wait for it
  stopped,      // no incarnation: terminated on request, or transient after a clean exit (pid undefined)
  removed,      // temporary child that exited: the spec is gone
  failed,       // no incarnation: give_up_mode::degrade left it down; only start_child brings it back
};

class supervisor_logic {
 public:
  supervisor_logic(strategy s, intensity_limit limit, std::vector<child_spec> children,
                   termination_order order = termination_order::strict, give_up_mode mode = give_up_mode::escalate);

  // Starts every child, left to right (those without autostart stay stopped).
  std::vector<command> start();
  // The enable state changed (reload), or a child not started at boot runs already (adopted).
  void set_autostart(const std::string& id, bool autostart);
  // A child exited without being asked to (a crash, a clean exit, or a failed start).
  std::vector<command> on_exit(const std::string& id, exit_kind kind, int64_t now_seconds);
  // A child we told to terminate is gone.
  std::vector<command> on_terminated(const std::string& id);
  // Orderly stop (from the parent, or the whole system): terminate all in reverse start order, then exit.
  std::vector<command> shutdown();
  // Operator requests (OTP terminate_child / restart_child): never counted, never restarted by strategy.
  std::vector<command> terminate_child(const std::string& id);
  // A stopped or failed child; a failed one starts with a fresh history of its own limit.
  std::vector<command> start_child(const std::string& id);
  // systemd's reset-failed: a failed child becomes stopped with a fresh history of its own limit (it stays down).
  bool reset_failed(const std::string& id);
  // Configuration changes (reload). OTP: a child added later goes to the end of the start order; a child can
  // only be deleted once stopped. Returns false if the request does not apply.
  bool add_child(child_spec spec);
  bool delete_child(const std::string& id);
  bool replace_child(child_spec spec);  // new spec for a stopped or failed child (keeps its place and state)
  // The siblings a child needs changed (an unchanged child whose neighbours did): later runs order by these.
  bool set_dependencies(const std::string& id, std::vector<std::string> depends_on);
  // Removes a child now if it is stopped, or, if a run is stopping it, once that run has (it is not started
  // again with its group). False if it runs outside any run: terminate_child it first.
  bool retire_child(const std::string& id);

  child_state state(const std::string& id) const;
  std::vector<std::string> children() const;  // start order, removed children excluded
  // The siblings whose abnormal exit makes this supervisor restart `id` along with them: under one_for_all
  // every other non-temporary child, under rest_for_one the non-temporary children started before it, else
  // none. (The dependency tracker lets no child of a group start after one of these that failed in the
  // round.)
  std::vector<std::string> rolled_back_by(const std::string& id) const;
  size_t intensity_entries() const { return intensity_.entries(); }
  // Restart history (the supervisor's intensity and each child's own limit), kept across a runtime restart.
  const std::vector<int64_t>& intensity_history() const { return intensity_.history(); }
  std::vector<int64_t> child_history(const std::string& id) const;
  void restore_history(const std::vector<int64_t>& supervisor,
                       const std::unordered_map<std::string, std::vector<int64_t>>& children, int64_t now_seconds);
  bool busy() const { return sequence_.has_value(); }
  bool exiting() const { return exited_; }
  strategy which() const { return strategy_; }
  give_up_mode mode() const { return mode_; }
  void set_mode(give_up_mode m) { mode_ = m; }  // the root's give-up setting changed (reload)

 private:
  struct child {
    child_spec spec;
    child_state state = child_state::stopped;
    bool retiring = false;  // removed from the configuration while a run is stopping it: never started again
    restart_intensity own;
    // Where a stop leaves it: temporary and retiring children are dropped (OTP), others wait stopped.
    child_state after_stop() const {
      return spec.restart == restart_type::temporary || retiring ? child_state::removed : child_state::stopped;
    }
    explicit child(child_spec s)
        : spec(std::move(s)), own(spec.own_limit.value_or(intensity_limit{1000000, 1})) {}
  };
  // A run of terminations (one at a time, last started first; all at once for simple_one_for_one),
  // followed by starts and possibly the supervisor's exit. OTP does this synchronously; events that
  // arrive meanwhile for children outside the run are deferred until it ends.
  // Ids in order, with O(1) membership: a supervisor of ten thousand children asks "is X in the run?" on every
  // exit of a stop of them all.
  class id_queue {
   public:
    void push_back(const std::string& id) {
      if (members_.insert(id).second) items_.push_back(id);
    }
    std::string pop_front() {
      std::string id = std::move(items_.front());
      items_.pop_front();
      members_.erase(id);
      return id;
    }
    bool contains(const std::string& id) const { return members_.count(id) != 0; }
    bool erase(const std::string& id) {
      if (members_.erase(id) == 0) return false;
      items_.erase(std::find(items_.begin(), items_.end(), id));
      return true;
    }
    template <class Predicate>
    void erase_if(Predicate drop) {
      std::erase_if(items_, [&](const std::string& id) { return drop(id) && members_.erase(id) != 0; });
    }
    void clear() {
      items_.clear();
      members_.clear();
    }
    bool empty() const { return items_.empty(); }
    const std::string& front() const { return items_.front(); }
    std::deque<std::string>::const_iterator begin() const { return items_.begin(); }
    std::deque<std::string>::const_iterator end() const { return items_.end(); }

   private:
    std::deque<std::string> items_;
    std::unordered_set<std::string> members_;
  };
  struct sequence {
    id_queue to_terminate;
    std::unordered_set<std::string> outstanding;  // terminations in flight
    std::vector<std::string> to_start;
    bool then_exit = false;
    std::string exit_note;
  };
  struct deferred {
    enum class kind { exit, terminate, start, shutdown } what;
    std::string id;
    exit_kind how = exit_kind::normal;
    int64_t now = 0;
  };

  child* find(const std::string& id);
  const child* find(const std::string& id) const;
  std::vector<command> handle_exit(child& c, exit_kind kind, int64_t now);
  std::vector<command> give_up(const std::string& why);
  std::vector<command> leave_failed(child& c, const std::string& why);
  std::vector<command> begin(sequence s);
  std::vector<command> advance();
  std::vector<command> drain_deferred();
  std::vector<std::string> running_in_reverse(size_t from_index = 0) const;
  bool in_sequence(const std::string& id) const;
  // Is a sibling that depends on `id`, directly or through other siblings (whatever their state), still to be
  // terminated in this run or terminating?
  bool needed_by_a_pending_sibling(const std::string& id) const;
  void rebuild_needed_by();

  strategy strategy_;
  termination_order order_;
  give_up_mode mode_;
  restart_intensity intensity_;
  std::vector<child> children_;
  std::unordered_map<std::string, size_t> index_;                    // id -> position in children_
  std::unordered_map<std::string, std::vector<std::string>> needed_by_;  // id -> siblings that depend on it
  std::optional<sequence> sequence_;
  std::deque<deferred> deferred_;
  bool exited_ = false;
};

const char* to_string(child_state s);

// OTP's child `shutdown`: how long a supervisor waits for a child it told to terminate before it kills it
// (exit(kill)). A service gets its stop timeout plus what its incarnation needs after its own SIGKILL (the
// exit to be reaped, the cgroup drained: kShutdownGrace); a supervisor gets infinity (nullopt), OTP's default
// for supervisor children: its own timers bound its children.
inline constexpr std::chrono::milliseconds kShutdownGrace{15000};
std::optional<std::chrono::milliseconds> shutdown_timeout(bool is_supervisor, std::chrono::milliseconds stop_timeout);

}  // namespace dynamod::behaviours
