// org.freedesktop.login1.Manager's power half (dbus/login1_power.cpp): PowerOff, Reboot and Halt (and WithFlags),
// the Can* answers, sleep (not done), and the inhibitors: Inhibit, ListInhibitors and the properties they show.
// The Manager's vtable (dbus/login1_manager.cpp) lists these.
#pragma once

#include <systemd/sd-bus.h>

namespace dynamod::dbus::login1_power {

int power_off(sd_bus_message* m, void* ud, sd_bus_error* error);
int reboot(sd_bus_message* m, void* ud, sd_bus_error* error);
int halt(sd_bus_message* m, void* ud, sd_bus_error* error);
int power_off_with_flags(sd_bus_message* m, void* ud, sd_bus_error* error);
int reboot_with_flags(sd_bus_message* m, void* ud, sd_bus_error* error);
int halt_with_flags(sd_bus_message* m, void* ud, sd_bus_error* error);
int sleep(sd_bus_message* m, void* ud, sd_bus_error* error);
int can_power(sd_bus_message* m, void* ud, sd_bus_error* error);
int can_sleep(sd_bus_message* m, void* ud, sd_bus_error* error);
int inhibit(sd_bus_message* m, void* ud, sd_bus_error* error);
int list_inhibitors(sd_bus_message* m, void* ud, sd_bus_error* error);

// BlockInhibited, DelayInhibited (s); NCurrentInhibitors (t); PreparingForShutdown (b).
int get_inhibited(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*);
int get_n_inhibitors(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*);
int get_preparing_for_shutdown(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*);

}  // namespace dynamod::dbus::login1_power
