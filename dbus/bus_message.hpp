// sd-bus (libsystemd) helpers: owned references and the marshalling of unit properties.
//
// Why sd-bus and not sdbus-c++: Debian 12's sdbus-c++ 1.2 has no server connections (systemctl's peer-to-peer
// /run/systemd/private), no fallback objects (a unit object must answer for any valid unit name) and no replies
// after the handler returned without its threads; it wraps sd-bus, which has all three and is what systemd's own
// daemons use, so the clients see exactly the introspection, Properties and error behaviour they are built for.
#pragma once

#include <systemd/sd-bus.h>

#include <memory>
#include <string>
#include <vector>

#include "dbus/unit_properties.hpp"

namespace dynamod::dbus {

// A message kept for a reply that comes later (a handler returned 1 and answers from a CAF continuation). Every
// kept call counts against its sender until the reference is gone (see call_over_limit).
using message_ref = std::shared_ptr<sd_bus_message>;
message_ref keep(sd_bus_message* m);

// Whether a new call from this message's sender (on this connection) must be refused: one sender may have at most
// kMaxCallsPerSender calls waiting for the runtime, all of them together kMaxCallsWaiting. A local user flooding
// the bus with GetAll or ListUnits gets org.freedesktop.DBus.Error.LimitsExceeded instead of the runtime's time.
inline constexpr int kMaxCallsPerSender = 64;
inline constexpr int kMaxCallsWaiting = 2048;
bool call_over_limit(sd_bus_message* m);

// Appends `strings` as an array of strings (as).
int append_strings(sd_bus_message* m, const std::vector<std::string>& strings);
// Appends `v` as a variant.
int append_variant(sd_bus_message* m, const property_value& v);
// Appends a{sv}.
int append_property_dict(sd_bus_message* m, const std::vector<property>& props);

// Replies to Properties.Get / GetAll with values from `props`.
int reply_property(sd_bus_message* call, const property& p);
int reply_properties(sd_bus_message* call, const std::vector<property>& props);
// Emits org.freedesktop.DBus.Properties.PropertiesChanged for `interface` with `props` as changed values.
int emit_properties_changed(sd_bus* bus, const std::string& path, const std::string& interface,
                            const std::vector<property>& props);

// Reads an array of strings (as) of at most `max` elements; more is InvalidArgs in `error` (a client could
// otherwise make every call walk a million names).
inline constexpr size_t kMaxStringsPerCall = 1024;
int read_string_array(sd_bus_message* m, std::vector<std::string>& out, sd_bus_error* error,
                      size_t max = kMaxStringsPerCall);

// Replies with the error `name` and `message`.
int reply_error(sd_bus_message* call, const char* name, const std::string& message);

}  // namespace dynamod::dbus
