// org.freedesktop.login1.Session objects (/org/freedesktop/login1/session/<id>, and /session/auto for the caller's
// own): properties for loginctl, libseat and mutter, and the simple methods, as logind 252 has them
// (../shared/spec/dbus.md §3); the controller's device handling is in dbus/login1_session_devices.cpp. The owner of
// a session (or root) may act on it.
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <linux/input.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>

#include "dbus/bus_state.hpp"
#include "dbus/login1_session_devices.hpp"
#include "dbus/login_state.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kTree = "/org/freedesktop/login1/session";
constexpr const char* kInterface = "org.freedesktop.login1.Session";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
login_state& login_of(void* ud) { return *state_of(ud).login; }
const login::session& current(void* ud) { return *login_of(ud).registry.find(login_of(ud).current_object); }

// The session an object path names; "auto" is the caller's own (asked of the bus daemon: logind does the same).
int find_session(sd_bus* bus, const char* path, const char*, void* ud, void** found, sd_bus_error*) {
  auto& ls = login_of(ud);
  char* raw = nullptr;
  if (sd_bus_path_decode(path, kTree, &raw) <= 0) return 0;
  std::string id = raw;
  free(raw);
  if (id == "auto") {
    const auto pid = current_sender_pid(bus);
    auto own = pid ? session_of_pid(ls, *pid) : std::nullopt;
    if (!own) return 0;
    id = *own;
  }
  if (!ls.registry.find(id)) return 0;
  ls.current_object = id;
  *found = ud;
  return 1;
}

int enumerate_sessions(sd_bus*, const char*, void* ud, char*** nodes, sd_bus_error*) {
  const auto all = login_of(ud).registry.sessions();
  char** list = static_cast<char**>(calloc(all.size() + 1, sizeof(char*)));
  if (!list) return -ENOMEM;
  size_t i = 0;
  for (const auto* s : all) list[i++] = strdup(session_path(s->id).c_str());
  *nodes = list;
  return 0;
}

// --- properties ------------------------------------------------------------------------------------------------

int get_string(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  const std::string p = property;
  const std::string value = p == "Id"           ? s.id
                            : p == "Name"       ? s.user_name
                            : p == "TTY"        ? s.from.tty
                            : p == "Display"    ? s.from.display
                            : p == "RemoteHost" ? s.from.remote_host
                            : p == "RemoteUser" ? s.from.remote_user
                            : p == "Service"    ? s.from.service
                            : p == "Desktop"    ? s.from.desktop
                            : p == "Scope"      ? s.scope()
                            : p == "Type"       ? s.from.type
                            : p == "Class"      ? s.from.session_class
                            : p == "State"      ? s.state()
                                                : std::string();
  return sd_bus_message_append(reply, "s", value.c_str());
}

int get_uint(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  const std::string p = property;
  const uint32_t value = p == "VTNr" ? s.from.vtnr : p == "Leader" ? s.from.leader : 0;
  return sd_bus_message_append(reply, "u", value);
}

int get_bool(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  const std::string p = property;
  const bool value = p == "Active" ? s.active : p == "Remote" ? s.from.remote : p == "IdleHint" ? s.idle
                     : p == "LockedHint" ? s.locked : false;
  return sd_bus_message_append(reply, "b", value);
}

int get_time(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  return sd_bus_message_append(reply, "t", std::string(property) == "Timestamp" ? s.since_us : uint64_t{0});
}

int get_user(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  return sd_bus_message_append(reply, "(uo)", s.from.uid, user_path(s.from.uid).c_str());
}

int get_seat(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& s = current(ud);
  return sd_bus_message_append(reply, "(so)", s.from.seat.c_str(), s.from.seat.empty() ? "/" : seat_path(s.from.seat).c_str());
}

// --- methods -----------------------------------------------------------------------------------------------------


int method_activate(sd_bus_message* m, void* ud, sd_bus_error*) {
  login1_devices::as_owner(m, ud, false, [](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    login_sessions_changed(st, st.login->registry.activate(id));
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}

int method_terminate(sd_bus_message* m, void* ud, sd_bus_error*) {
  login1_devices::as_owner(m, ud, false, [](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    login_terminate_session(st, id, "terminated");
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}

int lock(sd_bus_message* m, void* ud, bool locked) {
  login1_devices::as_owner(m, ud, false, [locked](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    sd_bus_emit_signal(st.bus, session_path(id).c_str(), kInterface, locked ? "Lock" : "Unlock", "");
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}
int method_lock(sd_bus_message* m, void* ud, sd_bus_error*) { return lock(m, ud, true); }
int method_unlock(sd_bus_message* m, void* ud, sd_bus_error*) { return lock(m, ud, false); }

// SetIdleHint(b) / SetLockedHint(b).
int hint(sd_bus_message* m, void* ud, sd_bus_error* error, bool locked_hint) {
  int value = 0;
  if (sd_bus_message_read(m, "b", &value) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (b).");
  login1_devices::as_owner(m, ud, false, [value, locked_hint](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    auto* s = st.login->registry.find(id);
    (locked_hint ? s->locked : s->idle) = value != 0;
    login_sessions_changed(st, {id});
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}
int method_set_idle_hint(sd_bus_message* m, void* ud, sd_bus_error* e) { return hint(m, ud, e, false); }
int method_set_locked_hint(sd_bus_message* m, void* ud, sd_bus_error* e) { return hint(m, ud, e, true); }

int method_kill(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* who = nullptr;
  int32_t signal = 0;
  if (sd_bus_message_read(m, "si", &who, &signal) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (si).");
  const std::string whom = who;
  if (!login_kill_valid(whom, signal)) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid kill parameters");
  login1_devices::as_owner(m, ud, true, [whom, signal](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    login_kill(*st.login, id, whom, signal);
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}

// SetType(s) / SetDisplay(s): only the controller (SetType) or the owner.
int set_text(sd_bus_message* m, void* ud, sd_bus_error* error, bool type) {
  const char* value = nullptr;
  if (sd_bus_message_read(m, "s", &value) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  const std::string v = value;
  if (type && v != "tty" && v != "x11" && v != "wayland" && v != "mir" && v != "unspecified") {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid session type '%.32s'", value);
  }
  if (v.size() > 255 || v.find('\n') != std::string::npos) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid value");
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  if (type && login_of(ud).devices[login_of(ud).current_object].controller() != sender) {
    return sd_bus_error_set(error, "org.freedesktop.login1.NotInControl", "You must be in control of this session to set type");
  }
  login1_devices::as_owner(m, ud, false, [v, type](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t) {
    auto* s = st.login->registry.find(id);
    (type ? s->from.type : s->from.display) = v;
    login_sessions_changed(st, {id});
    const char* names[] = {type ? "Type" : "Display", nullptr};
    sd_bus_emit_properties_changed_strv(st.bus, session_path(id).c_str(), kInterface, const_cast<char**>(names));
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}
int method_set_type(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_text(m, ud, e, true); }
int method_set_display(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_text(m, ud, e, false); }

int method_set_brightness(sd_bus_message*, void*, sd_bus_error* error) {
  return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "dynamod does not set backlight brightness");
}

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Id", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("User", "(uo)", get_user, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Timestamp", "t", get_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TimestampMonotonic", "t", get_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("VTNr", "u", get_uint, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Seat", "(so)", get_seat, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TTY", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Display", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Remote", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RemoteHost", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RemoteUser", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Desktop", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Scope", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Leader", "u", get_uint, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Audit", "u", get_uint, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Type", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Class", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Active", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("State", "s", get_string, 0, 0),
    SD_BUS_PROPERTY("IdleHint", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("IdleSinceHint", "t", get_time, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("IdleSinceHintMonotonic", "t", get_time, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("LockedHint", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("Terminate", "", "", method_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Activate", "", "", method_activate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Lock", "", "", method_lock, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Unlock", "", "", method_unlock, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetIdleHint", "b", "", method_set_idle_hint, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetLockedHint", "b", "", method_set_locked_hint, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Kill", "si", "", method_kill, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TakeControl", "b", "", login1_devices::take_control, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReleaseControl", "", "", login1_devices::release_control, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetType", "s", "", method_set_type, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetDisplay", "s", "", method_set_display, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TakeDevice", "uu", "hb", login1_devices::take_device, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReleaseDevice", "uu", "", login1_devices::release_device, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("PauseDeviceComplete", "uu", "", login1_devices::pause_device_complete, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetBrightness", "ssu", "", method_set_brightness, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("PauseDevice", "uus", 0),
    SD_BUS_SIGNAL("ResumeDevice", "uuh", 0),
    SD_BUS_SIGNAL("Lock", "", 0),
    SD_BUS_SIGNAL("Unlock", "", 0),
    SD_BUS_VTABLE_END};

}  // namespace

// Runs `act` for the session's owner or root (`root_only`: root alone); answers AccessDenied otherwise. `act`
// replies itself (an empty string: plain success; else an error message as InvalidArgs... see below).
void login1_devices::as_owner(sd_bus_message* m, void* ud, bool root_only,
              std::function<void(bus_state&, const std::string&, sd_bus_message*, uint32_t)> act) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string id = login_of(ud).current_object;
  with_caller_uid(*s, m, [s, call, id, root_only, act](std::optional<uint32_t> uid) {
    const login::session* session = s->login->registry.find(id);
    if (!session) {
      reply_error(call.get(), "org.freedesktop.login1.NoSuchSession", "No session '" + id + "' known");
    } else if (!uid || (*uid != 0 && (root_only || session->from.uid != *uid))) {
      ++s->refused;
      reply_error(call.get(), SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
    } else {
      act(*s, id, call.get(), *uid);
    }
    pump(*s);
  });
}

int add_login1_objects(bus_state& st) {
  sd_bus_slot* slot = nullptr;
  int r = sd_bus_add_fallback_vtable(st.bus, &slot, kTree, kInterface, kVtable, find_session, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  r = sd_bus_add_node_enumerator(st.bus, &slot, kTree, enumerate_sessions, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  r = sd_bus_match_signal_async(st.bus, &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "NameOwnerChanged", login1_devices::on_name_owner_changed, nullptr, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  return add_login1_users_and_seats(st);
}

}  // namespace dynamod::dbus
