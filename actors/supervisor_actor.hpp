// A supervisor: linked to its children, trapping their exits (OTP trap_exit), restarting them.
#pragma once

#include <caf/fwd.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/runtime_context.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

struct supervisor_args {
  std::string name;
  std::vector<std::shared_ptr<const service_config>> services;  // start order
  runtime_context_ptr context;
};

// Messages:
//   (stop_all_atom) -> terminates the children in reverse start order, one at a time; answers once all are
//                      gone, then quits with `shutdown`.
//   (list_atom)     -> std::string: JSON array of the children's last reports.
// Spawned linked to `parent`.
caf::actor spawn_supervisor(caf::event_based_actor* parent, supervisor_args args);

}  // namespace dynamod
