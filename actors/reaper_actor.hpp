// The reaper: the only caller of waitpid() in the runtime. On SIGCHLD it reaps every exited child and
// sends (child_exit, pid, status) to the actor that registered the pid with (watch_pid, pid, owner).
// Exits forwarded by PID 1 for re-adopted services arrive as the same message and take the same path.
#pragma once

#include <caf/fwd.hpp>

namespace dynamod {

// Spawned linked to `parent`. `pid1_link` (may be invalid) is told to track/untrack every watched pid.
caf::actor spawn_reaper(caf::event_based_actor* parent, caf::actor pid1_link);

}  // namespace dynamod
