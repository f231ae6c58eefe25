// Accepts connections on the control socket; each client gets its own control_session actor, so a slow
// or dead client never holds up anyone else.
#pragma once

#include <caf/fwd.hpp>

#include "actors/runtime_context.hpp"

namespace dynamod {

// `listen_fd` is a bound, listening, non-blocking unix stream socket (owned from now on).
// `runtime` is the actor requests are dispatched to.
// Spawned linked to `runtime`.
caf::actor spawn_control_listener(caf::event_based_actor* runtime, int listen_fd, runtime_context_ptr context);

// Creates, binds and listens on a unix socket at `path` (replacing a stale one). Returns the fd or -errno.
int open_control_socket(const std::string& path);

}  // namespace dynamod
