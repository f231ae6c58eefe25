// A D-Bus connection as an actor: one sd-bus connection, the objects of its role, and its well-known name.
//
// On the system bus it connects (retrying while the bus daemon is not up yet), says Hello, asks for its name and
// serves. When the connection is lost (dbus-daemon died or restarts) it exits with `bus_lost`: its supervisor
// (dbus/bus_supervisor_actor) starts a new one, which waits for the bus to come back. A private connection (a
// systemctl on /run/systemd/private) ends normally when the client hangs up.
//
// The fd is watched by the runtime's event loop (one-shot); sd-bus' timeouts are CAF timers. Nothing here blocks:
// credentials of a caller on the bus are asked for asynchronously.
#pragma once

#include <caf/fwd.hpp>

#include "dbus/bus_state.hpp"

namespace dynamod::dbus {

caf::actor spawn_bus_actor(caf::local_actor* parent, bus_args args);  // linked to `parent`

}  // namespace dynamod::dbus
