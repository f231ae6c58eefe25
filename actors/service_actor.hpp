// One incarnation of a service, as an OTP worker is one incarnation of its child spec. It waits for its
// dependencies (asking the dependency tracker), starts the process, watches readiness, handles
// sd_notify messages, stops the process when told to, and quits when the process ends, with an exit
// reason saying how (exit_reasons.hpp). The state machine itself is behaviours/service_lifecycle; this
// actor performs its actions. The supervisor, linked to it, decides what happens after it quits.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime_context.hpp"
#include "runtime/config/service_config.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

struct service_args {
  std::shared_ptr<const service_config> config;
  std::chrono::milliseconds start_delay{0};  // restart delay: wait before starting
  std::optional<adoption_record> adopt;      // a live process left by the previous runtime: adopt it
  bool waits = true;                         // has dependencies to wait for (else start at once)
  runtime_context_ptr context;
  caf::actor supervisor;  // receives service_report messages
  std::string cgroup_path{};  // under the runtime's cgroup base: "<supervisor>/.../<service>"
  // Whose failure restarts it too (its one_for_all / rest_for_one group, its supervisors' groups).
  std::vector<std::string> rolled_back_by{};
};

// Messages: (stop_atom) terminate (stop signal or stop-exec, SIGKILL after the stop timeout);
// (status_atom) -> std::string JSON object describing the incarnation.
// Spawned unlinked: `supervisor` (also args.supervisor) links to it at the end of its command batch.
caf::actor spawn_service(caf::event_based_actor* supervisor, service_args args);

}  // namespace dynamod
