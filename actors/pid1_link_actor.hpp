// The runtime's end of the IPC channel with dynamod-init (fd DYNAMOD_INIT_FD): tells PID 1 when the
// runtime is ready, which pids are services (track/untrack), when to shut the system down and that
// every service has stopped; hands PID 1 a descriptor of each log FIFO to hold (hold_fifo, drop_fifo);
// hears hello, stop_all and the exits of orphaned service processes.
#pragma once

#include <caf/fwd.hpp>

#include "actors/runtime_context.hpp"

namespace dynamod {

// `runtime` receives (stop_all_atom, uint8_t mode) when PID 1 asks for a shutdown; the actor quits with
// an error when PID 1 closes the channel. Orphan exits go to the reaper, announced with
// (reaper_atom, caf::actor) once it exists (the reaper itself needs this actor to track pids).
// Spawned linked to `runtime`.
caf::actor spawn_pid1_link(caf::event_based_actor* runtime, int fd, event_loop* loop);

}  // namespace dynamod
