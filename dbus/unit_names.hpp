// systemd's unit names and the D-Bus object paths they map to, as systemctl and GNOME expect them from
// org.freedesktop.systemd1. Pure: text in, text out (see ../shared/spec/dbus.md §2).
//
// dynamod's names: a service `x` is the unit `x.service`, a supervisor `y` the unit `y.target`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dynamod::dbus {

inline constexpr std::string_view kUnitPathPrefix = "/org/freedesktop/systemd1/unit/";
inline constexpr size_t kUnitNameMax = 255;  // systemd's UNIT_NAME_MAX (256) less the NUL

// sd-bus' bus_label_escape: every byte outside [A-Za-z0-9] becomes `_` and two lowercase hex digits, and so does
// a digit in the first position; the empty string is "_". "foo.service" -> "foo_2eservice".
std::string escape_path_label(std::string_view label);
// The inverse; nullopt for text no escape produces (a bad `_xx`, a byte outside the alphabet).
std::optional<std::string> unescape_path_label(std::string_view label);

// "/org/freedesktop/systemd1/unit/foo_2eservice" for "foo.service".
std::string unit_object_path(std::string_view unit);
// The unit an object path names, or nullopt for a path outside the unit tree or a bad label.
std::optional<std::string> unit_from_object_path(std::string_view path);

enum class unit_type { service, target, socket, mount, swap, timer, path, slice, scope, device, automount };

struct unit_name {
  std::string prefix;    // "getty" of "getty@tty1.service", "sshd" of "sshd.service"
  std::string instance;  // "tty1", or empty
  bool is_template = false;  // "getty@.service"
  unit_type type = unit_type::service;
};

// systemd's unit_name_is_valid: [A-Za-z0-9:_.\@-], a known type suffix, a non-empty prefix, at most one '@', at
// most kUnitNameMax bytes. nullopt for anything else (including a name with a NUL or a slash).
std::optional<unit_name> parse_unit_name(std::string_view name);

// dynamod's own name behind a unit: the service of "x.service", the supervisor of "y.target"; nullopt for a unit
// of another type or an invalid name.
struct dynamod_name {
  std::string name;
  bool supervisor = false;
};
std::optional<dynamod_name> dynamod_name_of(std::string_view unit);
std::string unit_of_service(std::string_view service);
std::string unit_of_supervisor(std::string_view supervisor);

// fnmatch(3)-style glob as systemctl's patterns use it (`*`, `?`, `[...]`), without FNM_PATHNAME.
bool unit_pattern_matches(std::string_view pattern, std::string_view unit);

}  // namespace dynamod::dbus
