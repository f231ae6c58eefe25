// The boot coordinator: knows the dependency graph and every service's current state (from the
// service_report messages each incarnation sends) and tells each waiting incarnation when it may start
// or that a requirement failed. Starting is thus a dynamic frontier: each service starts the moment its
// own dependencies are ready, not level by level. Once a second it also tells the console what a slow
// start or stop is waiting on.
#pragma once

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

#include "actors/runtime_context.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

// Messages: (watch_deps_atom, name, rolled_back_by) from a waiting incarnation -> (deps_atom, verdict, on,
// why) whenever its verdict changes (0 wait, 1 start, 2 blocked); (unwatch_deps_atom, name); service_report;
// (pending_atom, names) from a supervisor about to start new incarnations of these services.
caf::actor spawn_dependency_tracker(caf::event_based_actor* parent,
                                    std::vector<std::shared_ptr<const service_config>> services,
                                    runtime_context_ptr context);

}  // namespace dynamod
