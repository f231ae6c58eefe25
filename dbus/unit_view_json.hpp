// The runtime answers `list` and `status` in JSON (docs/control-protocol.md); the D-Bus objects show the same
// facts as systemd's unit properties. Pure: JSON and the current time in, unit_view out.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "dbus/unit_properties.hpp"

namespace dynamod::dbus {

struct clock_now {  // microseconds
  uint64_t realtime = 0;
  uint64_t monotonic = 0;
};

// A service from a `list` entry or a `status` answer (which adds file, exec, cgroup figures).
unit_view service_view(const nlohmann::json& service, clock_now now);
// A supervisor, as the target its services are part of; `failed` when the root left it down.
unit_view target_view(const std::string& supervisor, bool failed);

// The units a `list` answer holds: every service, then each supervisor named by one, once, in order of appearance.
std::vector<unit_view> units_of_list(const nlohmann::json& list, clock_now now);

clock_now current_time();

}  // namespace dynamod::dbus
