// An OTP supervisor as a CAF actor: linked to its children and trapping their exits (trap_exit). The
// decisions (strategy, restart types, intensity, termination order) are behaviours/supervisor_logic; this
// actor spawns and stops incarnations as told, keeps what must outlive them (restart counts, last exit,
// the log sink) in its child records, and escalates by exiting, which its own parent sees as a child exit.
#pragma once

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>

#include <string>
#include <vector>

#include "actors/runtime_context.hpp"
#include "runtime/config/supervision_plan.hpp"

namespace dynamod {

struct supervisor_args {
  plan_node node;  // this supervisor, its children in start order
  runtime_context_ptr context;
  bool adopt = false;  // first start after a runtime restart: adopt the processes the predecessor left
  caf::actor_addr parent;  // set by spawn_supervisor
  std::string cgroup_path{};  // its directory under the runtime's cgroup base ("" for root, "web", "web/api")
  // Services whose failure makes an ancestor restart this supervisor (supervisor_logic::rolled_back_by, up
  // the tree): they roll back this supervisor's children too.
  std::vector<std::string> rolled_back_by{};
};

// Messages:
//   (stop_atom)     terminate the children in reverse start order, one at a time, then quit (`shutdown`)
//   (stop_all_atom) the same, answering `stopped` once done (used by the runtime for the root)
//   (list_atom)     -> std::string: JSON array, one object per service in this subtree
// Spawned linked to `parent`.
caf::actor spawn_supervisor(caf::event_based_actor* parent, supervisor_args args);

}  // namespace dynamod
