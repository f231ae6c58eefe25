// Watches a starting service for readiness (tcp-port, exec check, s6-style readiness fd) and tells its
// service actor (ready) or gives up (probe_fail, why). sd_notify readiness needs no probe: READY=1 comes
// through the notify socket. Linked to its service actor, which ends it once no longer needed.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "actors/runtime_context.hpp"
#include "actors/service_process.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

struct probe_args {
  std::shared_ptr<const service_config> config;
  // exec checks run as the service (credentials, sandbox, cgroup, environment): its setup
  std::shared_ptr<const service_process_setup> setup;
  int ready_fd = -1;                      // fd readiness: the read end (owned by the probe from now on)
  runtime_context_ptr context;
};

caf::actor spawn_readiness_probe(caf::event_based_actor* service, probe_args args);

// "tcp-port 127.0.0.1:8080", "exec /bin/check", "fd 3", "notify": what a starting service waits for.
std::string describe_readiness(const service_config& c);

}  // namespace dynamod
