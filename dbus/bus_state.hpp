// One D-Bus connection actor's state, shared by the objects it serves (dbus/systemd1_*.cpp, dbus/*1_object.cpp).
// The objects' sd-bus handlers run inside sd_bus_process(), on the actor; a handler that needs the runtime keeps
// the message (`keep`), asks with a CAF request and replies from the continuation, then calls `pump`.
#pragma once

#include <caf/all.hpp>
#include <systemd/sd-bus.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime_context.hpp"
#include "dbus/bus_message.hpp"

namespace dynamod::dbus {

// What a connection serves. The system-bus ones own their well-known name; a private one is a systemctl that
// connected to /run/systemd/private (peer to peer, no bus daemon).
enum class bus_role { systemd1, hostname1, timedate1, locale1, login1, private_systemd1 };
const char* bus_name_of(bus_role role);  // "org.freedesktop.systemd1", ...

struct bus_args {
  bus_role role = bus_role::systemd1;
  runtime_context_ptr ctx;
  dbus_settings settings;
  caf::actor jobs;      // the job runner (systemd1 roles)
  int peer_fd = -1;     // private_systemd1: the accepted connection
  uint32_t peer_uid = 0;  // its SO_PEERCRED uid
};

struct bus_state;
struct login_state;
using bus_self = caf::stateful_actor<bus_state>*;

struct bus_state {
  static inline const char* name = "dbus";
  bus_state() = default;
  bus_state(const bus_state&) = delete;
  bus_state& operator=(const bus_state&) = delete;
  ~bus_state();
  bus_self self = nullptr;
  bus_args args;
  sd_bus* bus = nullptr;
  int fd = -1;
  std::vector<sd_bus_slot*> slots;
  std::vector<std::shared_ptr<void>> keep_alive;  // what the slots' handlers point at
  std::string connection = "connecting";  // connecting, authenticating, connected, ready (its name owned)
  std::vector<std::string> names;         // well-known names owned
  uint64_t timer_generation = 0;
  uint64_t connect_attempts = 0;
  // Each service's state, as the runtime's list said when the connection started and as the dependency tracker
  // reported every change since (subscribe): the Manager's counters and SystemState come from it.
  std::map<std::string, std::string> service_states;
  uint64_t refused = 0;   // mutating calls refused (not root)
  bool pump_queued = false;
  bool dispatching = false;  // inside sd_bus_process
  std::shared_ptr<login_state> login;  // login1's sessions, users and seat (bus_role::login1)
};

// Dispatches what sd-bus has, then re-arms the fd watch and sd-bus' timer. Ends the actor when the connection is
// gone (its supervisor decides about a new one).
void pump(bus_state& st);

// The caller's uid and pid: the bus daemon's GetConnectionCredentials (asked asynchronously); on a private
// connection, the uid from SO_PEERCRED. Each is nullopt when it cannot be known.
struct caller {
  std::optional<uint32_t> uid;
  std::optional<uint32_t> pid;
};
void with_caller(bus_state& st, sd_bus_message* m, std::function<void(caller)> then);
// with_caller, for the uid alone.
void with_caller_uid(bus_state& st, sd_bus_message* m, std::function<void(std::optional<uint32_t>)> then);
// The sender of the message sd-bus is dispatching, asked synchronously of the bus daemon: only for sd-bus' object
// lookups (login1's session/auto, user/self), which must answer at once (logind does the same).
std::optional<uint32_t> current_sender_uid(sd_bus* bus);
std::optional<uint32_t> current_sender_pid(sd_bus* bus);
// Runs `then` if the caller is root, else answers org.freedesktop.DBus.Error.AccessDenied (no polkit: mutating
// methods are root's).
void require_root(bus_state& st, sd_bus_message* m, std::function<void()> then);

// A setter of hostname1 & co: a value already in place succeeds without a permission check (as systemd's do);
// otherwise root only, and `apply` makes the change, returning why it could not (empty: done). `changed`, if set,
// names the properties to announce with PropertiesChanged on `path`/`interface`.
void change_setting(bus_state& st, sd_bus_message* m, bool differs, std::function<std::string()> apply,
                    const char* path, const char* interface, std::vector<std::string> changed);

// An object of one interface served by an sd-bus vtable (the Manager, hostname1, timedate1, locale1), with the
// tolerant Properties.Get of dbus/lenient_properties.
int add_vtable_object(bus_state& st, const char* path, const char* interface, const sd_bus_vtable* vtable);

// Each adds its objects to the connection; a negative errno on failure.
int add_systemd1_manager(bus_state& st);
int add_systemd1_units(bus_state& st);
int add_systemd1_jobs(bus_state& st);
int add_hostname1(bus_state& st);
int add_timedate1(bus_state& st);
int add_locale1(bus_state& st);

// The handlers' view of the runtime: `list` answered as units.
void with_units(bus_state& st, std::function<void(std::vector<unit_view>)> then);

}  // namespace dynamod::dbus
