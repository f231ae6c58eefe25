// org.freedesktop.login1.Session's controller methods (dbus/login1_session_devices.cpp), listed in the Session
// vtable of dbus/login1_session.cpp, and what both files share.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <functional>
#include <string>

namespace dynamod::dbus {

struct bus_state;

namespace login1_devices {

// Runs `act` for the session the call's object names when the caller is its owner or root (`root_only`: root
// alone); answers AccessDenied otherwise. `act` replies itself.
void as_owner(sd_bus_message* m, void* ud, bool root_only,
              std::function<void(bus_state&, const std::string&, sd_bus_message*, uint32_t)> act);

int take_control(sd_bus_message* m, void* ud, sd_bus_error* error);
int release_control(sd_bus_message* m, void* ud, sd_bus_error* error);
int take_device(sd_bus_message* m, void* ud, sd_bus_error* error);
int release_device(sd_bus_message* m, void* ud, sd_bus_error* error);
int pause_device_complete(sd_bus_message* m, void* ud, sd_bus_error* error);
// NameOwnerChanged: a controller that left the bus loses control and its devices.
int on_name_owner_changed(sd_bus_message* m, void* ud, sd_bus_error* error);

}  // namespace login1_devices
}  // namespace dynamod::dbus
