// One incarnation of a service, as an OTP worker is one incarnation of its child spec: it starts the
// process, reports its state to the supervisor, and quits when the process ends, with an exit reason
// that says how (see exit_reasons.hpp). The supervisor, linked to it, decides what happens next.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>

#include "actors/runtime_context.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

struct service_args {
  std::shared_ptr<const service_config> config;
  std::chrono::milliseconds start_delay{0};  // restart delay: wait before exec
  runtime_context_ptr context;
  caf::actor supervisor;  // receives service_report messages
};

// Messages: (stop_atom) terminate gracefully: stop signal, then SIGKILL after the stop timeout.
// Spawned linked to `supervisor` (which is also args.supervisor).
caf::actor spawn_service(caf::event_based_actor* supervisor, service_args args);

}  // namespace dynamod
