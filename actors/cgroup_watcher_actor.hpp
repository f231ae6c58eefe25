// Watches one service's cgroup for its incarnation (linked to it, so it goes with it): the kernel marks
// cgroup.events and memory.events changed (EPOLLPRI); the watcher re-reads them and tells the service
// `(populated, bool)` when the cgroup empties or fills and `(oom, count)` when the OOM killer struck inside.
// It also answers `cg_stats` (memory, pids, CPU, OOM kills) for `dynamodctl status` and `tree`.
#pragma once

#include <caf/fwd.hpp>

#include <string>

#include "actors/runtime_context.hpp"

namespace dynamod {

struct cgroup_watcher_args {
  std::string dir;  // /sys/fs/cgroup/dynamod/<supervisor...>/<service>
  runtime_context_ptr context;
};

caf::actor spawn_cgroup_watcher(caf::event_based_actor* service, cgroup_watcher_args args);

}  // namespace dynamod
