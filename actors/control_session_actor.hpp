// One control-socket client: decodes its framed requests, forwards each to the actor it concerns,
// and streams the replies back. Garbage, truncated or oversized frames end this connection only.
#pragma once

#include <caf/fwd.hpp>

#include <sys/types.h>

#include <memory>

#include "actors/runtime_context.hpp"
#include "runtime/io/client_limits.hpp"

namespace dynamod {

struct client_identity {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool admin = false;          // root, or the runtime's own user
  bool may_read_logs = false;  // an admin or a member of the log group: service output (logs, status lines)
};

// Spawned linked to `listener`, which traps the exits of its sessions: a session's failure concerns its
// client only, while the listener going away ends every session. `load` counts what all sessions hold
// for their clients (client_limits bounds them).
caf::actor spawn_control_session(caf::event_based_actor* listener, int fd, client_identity client,
                                 runtime_context_ptr context, caf::actor runtime, std::shared_ptr<client_load> load);

}  // namespace dynamod
