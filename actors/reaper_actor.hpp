// The reaper: the only caller of waitpid() in the runtime. It sends (child_exit, pid, status) to the actor that
// registered the pid with (watch_pid, pid, owner) or, for a process the runtime spawned, with
// (watch_pid, pid, pidfd, owner): such a child's exit is seen on its pidfd and reaped with one O(1) wait.
// SIGCHLD triggers a waitid(P_ALL) scan, O(children), for what the runtime did not spawn (a daemon's orphan it
// inherited as subreaper); scans are at most one per 20 ms + 100 µs per pidfd, so a mass exit does not cost one
// scan per exit.
// Exits forwarded by PID 1 for re-adopted services arrive as child_exit and take the same path.
#pragma once

#include <caf/fwd.hpp>

namespace dynamod {

class event_loop;

// Spawned linked to `parent`. `pid1_link` (may be invalid) is told to track/untrack every watched pid; `loop`
// (outlives the actor) watches the pidfds.
caf::actor spawn_reaper(caf::event_based_actor* parent, caf::actor pid1_link, event_loop* loop);

}  // namespace dynamod
