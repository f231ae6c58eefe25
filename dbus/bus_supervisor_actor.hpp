// The D-Bus face of dynamod, supervised: a small supervisor (one per runtime, a system actor of the runtime) over
//
//   dbus_jobs            the job runner (dbus/job_runner_actor)
//   systemd1 hostname1 timedate1 locale1
//                        one system-bus connection each (dbus/bus_actor), owning its name
//   private listener     /run/systemd/private: one connection actor per systemctl (temporary children)
//
// one_for_one with a growing delay (1 s doubling to 30 s; reset after a minute up): a lost system bus (dbus-daemon
// stopped or restarted) ends the connection actors, and their new incarnations wait for the bus and take their
// names again; nothing else is disturbed. The job runner's end restarts all (one_for_all): the connections hold
// its handle. Nothing here escalates to the runtime: without D-Bus the services run on.
#pragma once

#include <caf/fwd.hpp>

#include "actors/runtime_context.hpp"
#include "dbus/bus_state.hpp"

namespace dynamod::dbus {

caf::actor spawn_bus_supervisor(caf::local_actor* parent, runtime_context_ptr ctx, dbus_settings settings);  // linked

}  // namespace dynamod::dbus
