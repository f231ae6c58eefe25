// systemd1's jobs: one actor for every connection, so job ids are unique and a job started through the private
// socket is seen on the bus too. A job is a start, stop or restart the runtime carries out (waiting for the
// outcome); every job ends with exactly one job_event(removed) to every subscribed connection (JobRemoved):
// done, failed, dependency, canceled (replaced by a newer job on the unit) or timeout (dbus/job_book).
#pragma once

#include <caf/fwd.hpp>

#include "actors/runtime_context.hpp"

namespace dynamod::dbus {

caf::actor spawn_job_runner(caf::local_actor* parent, runtime_context_ptr ctx);  // linked

}  // namespace dynamod::dbus
