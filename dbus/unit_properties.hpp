// The properties of a unit object (org.freedesktop.systemd1.Unit and .Service), with the D-Bus types systemctl
// insists on (a wrong type is a hard parse error there; a missing property is fine). Pure: built from a view of
// a dynamod service or supervisor; the bus actor turns the values into sdbus variants.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dbus/unit_state.hpp"

namespace dynamod::dbus {

using property_value = std::variant<bool, int32_t, uint32_t, uint64_t, std::string, std::vector<std::string>>;

// "b", "i", "u", "t", "s" or "as".
const char* dbus_signature(const property_value& v);

inline constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
inline constexpr const char* kServiceInterface = "org.freedesktop.systemd1.Service";
inline constexpr uint64_t kNotShown = UINT64_MAX;  // systemd's "no value" for the cgroup figures

struct property {
  std::string interface;
  std::string name;
  property_value value;
};

struct timestamps {  // microseconds; 0 = never
  uint64_t realtime = 0;
  uint64_t monotonic = 0;
};

// What the bus actor knows about one dynamod service or supervisor.
struct unit_view {
  std::string unit;         // "sshd.service", "system.target"
  std::string description;  // the config file's first comment line, or the unit name
  dynamod_state state = dynamod_state::unknown;
  bool supervisor = false;
  std::string fragment_path;  // the TOML file
  bool enabled = true;
  uint32_t main_pid = 0;
  uint32_t restarts = 0;
  std::string last_exit;  // as the control protocol reports it
  std::string detail;
  std::string status_text;
  std::string service_type;  // simple, oneshot, forking, notify (systemd's names too)
  std::vector<std::string> log;  // the last lines of its log, newest last
  std::string control_group;  // "/dynamod/system/sshd", or empty
  std::optional<uint64_t> memory_current, memory_max, tasks_current, tasks_max, cpu_usage_nsec;
  timestamps active_enter, active_exit, inactive_enter, inactive_exit, exec_main_start, exec_main_exit;
};

// Unit + Service properties of a service, Unit properties of a target (supervisor), or the Unit properties
// systemd gives any valid name it does not know (LoadState "not-found": `status` exits 4, `is-active` 3).
std::vector<property> unit_properties(const unit_view& view);
std::vector<property> not_found_unit_properties(const std::string& unit);

// The properties of one interface ("" = all, as systemctl asks), for Properties.GetAll; nullopt for an interface
// the object does not have (org.freedesktop.DBus.Error.UnknownInterface).
std::optional<std::vector<property>> properties_of(const std::vector<property>& all, const std::string& interface,
                                                   bool is_service);

}  // namespace dynamod::dbus
