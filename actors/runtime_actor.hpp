// The runtime's top actor: it spawns and links the system actors (PID 1 link, reaper, control
// listener) and the root supervisor, routes signals, and drives the shutdown of everything.
#pragma once

#include <caf/fwd.hpp>

#include <memory>
#include <vector>

#include "actors/runtime_context.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

struct runtime_args {
  runtime_paths paths;
  bool user_mode = false;
  int init_fd = -1;      // IPC with dynamod-init, or -1
  int control_fd = -1;   // listening control socket, or -1
  event_loop* loop = nullptr;
  console_status* console = nullptr;
  std::vector<std::shared_ptr<const service_config>> services;
};

caf::actor spawn_runtime(caf::actor_system& sys, runtime_args args);

}  // namespace dynamod
