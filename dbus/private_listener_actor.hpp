// /run/systemd/private: where systemctl, run as root, talks to the manager peer to peer (no bus daemon; see
// ../shared/spec/dbus.md §1). The socket is root's (0600); each accepted client gets a connection actor of its own
// (dbus/bus_actor, role private_systemd1) that ends when the client hangs up. At most kMaxPrivateConnections at
// once: further clients are closed at once (systemctl then falls back to the system bus).
#pragma once

#include <caf/fwd.hpp>

#include "dbus/bus_state.hpp"

namespace dynamod::dbus {

inline constexpr size_t kMaxPrivateConnections = 128;

// Binds <systemd_dir>/private; an invalid actor (and the reason logged) when it cannot.
caf::actor spawn_private_listener(caf::local_actor* parent, runtime_context_ptr ctx, dbus_settings settings,
                                  caf::actor jobs);  // linked

}  // namespace dynamod::dbus
