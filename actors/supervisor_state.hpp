// Internal to the supervisor actor's files (supervisor_actor.cpp, supervisor_views.cpp,
// supervisor_reload.cpp): its state and the helpers they share.
#pragma once

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/file_io_actor.hpp"
#include "actors/messages.hpp"
#include "actors/supervisor_actor.hpp"
#include "behaviours/supervisor_logic.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod::supervision {

using clock = std::chrono::steady_clock;

// An operator request waiting for its outcome (dynamodctl start/stop/restart without --no-block).
struct pending_request {
  enum class kind { start, stop, restart } what;
  caf::response_promise promise;
};

struct child_record {
  plan_node node;
  caf::actor incarnation;  // strong handle: an unreferenced idle actor would be collected (CAF)
  caf::actor log_sink;
  service_report last;
  int starts = 0;
  int restarts = 0;
  int oom_kills = 0;  // incarnations that ended with `oom`
  std::string last_exit;
  clock::time_point started_at{};
  clock::time_point state_since = clock::now();
  int consecutive_failures = 0;
  bool delay_next = false;  // the next start restarts it after its own exit: apply its restart delay
  std::optional<adoption_record> adopt;
  bool stale_definition = false;  // the adopted process was started from another definition: restart it
  std::vector<pending_request> waiting;
  bool remove_after_stop = false;            // reload: dropped from the configuration
  bool hand_over = false;  // reload moved it to another supervisor: its incarnation leaves the process running
  // When the shutdown timer of the current terminate expires (OTP's child `shutdown`); none once it stopped.
  std::optional<clock::time_point> stop_deadline;
  bool remove_now = false;
  std::optional<plan_node> replace_after_stop;  // reload: changed definition, to start once stopped
  bool is_service() const { return node.what == plan_node::kind::service; }
  const std::string& id() const { return node.name; }
};

struct supervisor_state {
  supervisor_args args;
  std::unique_ptr<behaviours::supervisor_logic> logic;
  std::vector<child_record> children;
  std::unordered_map<std::string, size_t> child_index;  // id -> position in children (find: O(1), not O(n))
  // Incarnations and log sinks (linked to us) -> their child's id, so an exit finds its child in O(1). Entries
  // are checked on use (the child may have a newer one) and dropped with the exit.
  std::unordered_map<caf::actor_addr, std::string> linked_ids;
  // Incarnations spawned by the command batch being executed, linked when it is done (execute).
  std::vector<caf::actor> to_link;
  std::vector<caf::response_promise> stop_promises;
  clock::time_point started_at = clock::now();
  caf::actor_addr parent;
  // The shutdown timers of all terminating children share one CAF timer, set for the earliest deadline: a stop of
  // thousands would otherwise hand the clock thread thousands of timers.
  std::optional<clock::time_point> next_shutdown_check;
  bool stopping = false;
  static inline const char* name = "supervisor";
};

using self_ptr = caf::stateful_actor<supervisor_state>*;

const std::string& my_name(self_ptr self);
child_record* find(self_ptr self, const std::string& id);
// Fails every request still waiting on `c` with `why`: CAF 0.17 does not fail a promise that is dropped.
void abandon_requests(child_record& c, const std::string& why);
bool drop_child(self_ptr self, const std::string& id);  // a stopped child leaves the tree (reload)
behaviours::child_spec spec_for(const plan_node& n);
// A record for a plan node; with `adopt`, it takes over a process a predecessor left running (checked).
// A child as the supervisor first knows it; `adoption`: what its predecessor left running (a service's record).
child_record new_child_record(const plan_node& n, const std::optional<adoption_decision>& adoption);
// Reads the record on the calling thread (reload only: the start path asks the file I/O actor).
std::optional<adoption_decision> read_adoption(self_ptr self, const plan_node& n);
void execute(self_ptr self, const std::vector<behaviours::command>& cmds);
// An adopted child whose definition changed while no runtime ran is stopped and started again from the current
// one (as reload does with a changed child).
void restart_if_stale(self_ptr self, const std::string& id);
void register_services(self_ptr self);
// The sub-supervisor (a child of this one, left failed by degrade) that a service went down with, if any.
const child_record* failed_supervisor_of(self_ptr self, const std::string& service);
// degrade for the root whose give-up setting says so, escalate (OTP) otherwise.
behaviours::give_up_mode give_up_mode_of(const plan_node& n);

// Views (supervisor_views.cpp)
nlohmann::json service_summary(self_ptr self, const child_record& c);
// A service of a failed sub-supervisor `sup`: down with it, and why.
nlohmann::json down_with_its_supervisor(const child_record& sup, const std::string& service);
void collect_list(self_ptr self, caf::response_promise rp);
void collect_tree(self_ptr self, caf::response_promise rp);
void collect_status(self_ptr self, child_record& c, caf::response_promise rp);

// Reload (supervisor_reload.cpp): applies the new plan of this supervisor; answers a JSON diff.
// `moved`: services whose supervisor the reload changed; a running one is handed over, not stopped.
void apply_reload(self_ptr self, plan_node fresh, std::vector<std::string> moved, caf::response_promise rp);
// Services of both trees whose parent supervisor differs.
std::vector<std::string> moved_services(const plan_node& before, const plan_node& after);

int64_t uptime_ms(const clock::time_point& since);

}  // namespace dynamod::supervision

