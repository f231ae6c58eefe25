// The sd_notify endpoint ($NOTIFY_SOCKET, <state_dir>/notify): a datagram socket with SO_PASSCRED, so
// every message carries its sender's pid. The sender is mapped to a service (its main pid, or a descendant
// of it) and the KEY=VALUE fields are forwarded to that service's actor, which decides by its notify-access
// whether the sender may speak for it. Descriptors sent along (BARRIER=1's pipe, FDSTORE) are closed once the
// service has handled what came before them (bounded per sender uid and in total); those from a sender that
// belongs to no service are closed at once.
// Messages: (watch_pid_atom, int pid, caf::actor service[, bool claimed]): a claimed pid (named by the
// service) never replaces another service's registration; (unwatch_pid_atom, int pid).
#pragma once

#include <caf/fwd.hpp>

#include <string>

#include "actors/runtime_context.hpp"

namespace dynamod {

caf::actor spawn_notify_socket(caf::event_based_actor* parent, int fd, runtime_context_ptr context);

// Creates the socket at `path` (replacing a stale one); returns the fd or -errno.
int open_notify_socket(const std::string& path);

// Splits a datagram into KEY=VALUE fields; lines without '=' are skipped.
std::vector<std::pair<std::string, std::string>> parse_notify_datagram(const std::string& text);

}  // namespace dynamod
