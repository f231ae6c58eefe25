// Properties.Get asked with "<interface>.<Property>" as the interface name, as the original dynamod's D-Bus smoke
// test asks (`string:org.freedesktop.systemd1.Manager.Version string:Version`): answered with that property of
// <interface>, so its scripts keep working. A well-formed call never looks like that, so nothing else changes:
// anything else goes on to sd-bus' own Properties handling.
#pragma once

#include <systemd/sd-bus.h>

namespace dynamod::dbus {

struct bus_state;

// Registers the tolerance for the properties of `vtable` (the object's one interface) at `path`.
int add_lenient_get(bus_state& st, const char* path, const char* interface, const sd_bus_vtable* vtable);

}  // namespace dynamod::dbus
