// org.freedesktop.login1.User (/org/freedesktop/login1/user/_<uid>, /user/self) and .Seat (/seat/seat0,
// /seat/auto) objects: what loginctl's show-user, user-status and seat-status read, and the seat's session switch.
#include <fcntl.h>
#include <linux/vt.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kUserTree = "/org/freedesktop/login1/user";
constexpr const char* kSeatTree = "/org/freedesktop/login1/seat";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
login_state& login_of(void* ud) { return *state_of(ud).login; }

// --- users --------------------------------------------------------------------------------------------------------

int find_user(sd_bus* bus, const char* path, const char*, void* ud, void** found, sd_bus_error*) {
  const std::string p = path, prefix = std::string(kUserTree) + "/";
  if (p.rfind(prefix, 0) != 0) return 0;
  const std::string label = p.substr(prefix.size());
  uint32_t uid = 0;
  if (label == "self") {
    auto own = current_sender_uid(bus);
    if (!own) return 0;
    uid = *own;
  } else {
    if (label.size() < 2 || label.size() > 11 || label[0] != '_' || label.find_first_not_of("0123456789", 1) != std::string::npos) {
      return 0;
    }
    uid = static_cast<uint32_t>(std::stoul(label.substr(1)));
  }
  if (!login_of(ud).registry.find_user(uid)) return 0;
  login_of(ud).current_uid = uid;
  *found = ud;
  return 1;
}

int enumerate_users(sd_bus*, const char*, void* ud, char*** nodes, sd_bus_error*) {
  const auto all = login_of(ud).registry.users();
  char** list = static_cast<char**>(calloc(all.size() + 1, sizeof(char*)));
  if (!list) return -ENOMEM;
  size_t i = 0;
  for (const auto* u : all) list[i++] = strdup(user_path(u->uid).c_str());
  *nodes = list;
  return 0;
}

const login::user& current_user(void* ud) { return *login_of(ud).registry.find_user(login_of(ud).current_uid); }

bool user_active(const login_state& ls, const login::user& u) {
  for (const auto& id : u.sessions) {
    if (const auto* s = ls.registry.find(id); s && s->active) return true;
  }
  return false;
}

int get_user_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& u = current_user(ud);
  const auto& ls = login_of(ud);
  const std::string p = property;
  if (p == "UID") return sd_bus_message_append(reply, "u", u.uid);
  if (p == "GID") return sd_bus_message_append(reply, "u", u.gid);
  if (p == "Name") return sd_bus_message_append(reply, "s", u.name.c_str());
  if (p == "Timestamp") return sd_bus_message_append(reply, "t", u.since_us);
  if (p == "RuntimePath") return sd_bus_message_append(reply, "s", u.runtime_path().c_str());
  if (p == "Service") return sd_bus_message_append(reply, "s", "");  // no user manager: see ARCHITECTURE.md
  if (p == "Slice") return sd_bus_message_append(reply, "s", u.slice().c_str());
  if (p == "State") return sd_bus_message_append(reply, "s", user_active(ls, u) ? "active" : "online");
  if (p == "Display") {
    const std::string id = u.sessions.empty() ? "" : u.sessions.front();
    return sd_bus_message_append(reply, "(so)", id.c_str(), id.empty() ? "/" : session_path(id).c_str());
  }
  if (p == "Sessions") {
    int r = sd_bus_message_open_container(reply, 'a', "(so)");
    for (const auto& id : u.sessions) {
      if (r >= 0) r = sd_bus_message_append(reply, "(so)", id.c_str(), session_path(id).c_str());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
  }
  if (p == "IdleHint" || p == "Linger") return sd_bus_message_append(reply, "b", 0);
  return sd_bus_message_append(reply, "t", uint64_t{0});  // TimestampMonotonic, IdleSinceHint(Monotonic)
}

// Terminate() / Kill(i): root only (as in logind without polkit).
int user_action(sd_bus_message* m, void* ud, sd_bus_error* error, bool kill) {
  int32_t signal = SIGTERM;
  if (kill && (sd_bus_message_read(m, "i", &signal) < 0 || signal <= 0 || signal >= _NSIG)) {
    return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal");
  }
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const uint32_t uid = login_of(ud).current_uid;
  require_root(*s, m, [s, call, uid, kill, signal] {
    if (const auto* u = s->login->registry.find_user(uid)) {
      const auto sessions = u->sessions;
      for (const auto& id : sessions) {
        signal_session(*s->login, id, signal);
        if (!kill) login_end_session(*s, id, "its user was terminated");
      }
    }
    sd_bus_reply_method_return(call.get(), "");
    pump(*s);
  });
  return 1;
}
int method_user_terminate(sd_bus_message* m, void* ud, sd_bus_error* e) { return user_action(m, ud, e, false); }
int method_user_kill(sd_bus_message* m, void* ud, sd_bus_error* e) { return user_action(m, ud, e, true); }

const sd_bus_vtable kUserVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UID", "u", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("GID", "u", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Timestamp", "t", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("TimestampMonotonic", "t", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RuntimePath", "s", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "s", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Slice", "s", get_user_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Display", "(so)", get_user_property, 0, 0),
    SD_BUS_PROPERTY("State", "s", get_user_property, 0, 0),
    SD_BUS_PROPERTY("Sessions", "a(so)", get_user_property, 0, 0),
    SD_BUS_PROPERTY("IdleHint", "b", get_user_property, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHint", "t", get_user_property, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHintMonotonic", "t", get_user_property, 0, 0),
    SD_BUS_PROPERTY("Linger", "b", get_user_property, 0, 0),
    SD_BUS_METHOD("Terminate", "", "", method_user_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Kill", "i", "", method_user_kill, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

// --- seat0 ---------------------------------------------------------------------------------------------------------

int find_seat(sd_bus*, const char* path, const char*, void* ud, void** found, sd_bus_error*) {
  char* raw = nullptr;
  if (sd_bus_path_decode(path, kSeatTree, &raw) <= 0) return 0;
  const std::string id = raw;
  free(raw);
  if (id != login::kSeat0 && id != "auto") return 0;  // one seat; every local session is on it
  *found = ud;
  return 1;
}

int enumerate_seats(sd_bus*, const char*, void*, char*** nodes, sd_bus_error*) {
  char** list = static_cast<char**>(calloc(2, sizeof(char*)));
  if (!list) return -ENOMEM;
  list[0] = strdup(seat_path(login::kSeat0).c_str());
  *nodes = list;
  return 0;
}

int get_seat_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto& ls = login_of(ud);
  const std::string p = property;
  if (p == "Id") return sd_bus_message_append(reply, "s", login::kSeat0);
  if (p == "ActiveSession") {
    const std::string id = ls.registry.active_session(login::kSeat0).value_or("");
    return sd_bus_message_append(reply, "(so)", id.c_str(), id.empty() ? "/" : session_path(id).c_str());
  }
  if (p == "CanMultiSession" || p == "CanTTY") return sd_bus_message_append(reply, "b", 1);
  if (p == "CanGraphical") return sd_bus_message_append(reply, "b", ls.registry.seat_graphical());
  if (p == "Sessions") {
    int r = sd_bus_message_open_container(reply, 'a', "(so)");
    for (const auto& id : ls.registry.seat_sessions(login::kSeat0)) {
      if (r >= 0) r = sd_bus_message_append(reply, "(so)", id.c_str(), session_path(id).c_str());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
  }
  if (p == "IdleHint") return sd_bus_message_append(reply, "b", 0);
  return sd_bus_message_append(reply, "t", uint64_t{0});
}

// The VT switch itself (the kernel's); the sessions' Active follows.
void switch_vt(bus_state& st, uint32_t vtnr) {
  const int fd = st.login->paths.console ? ::open("/dev/tty0", O_RDWR | O_CLOEXEC | O_NOCTTY) : -1;
  if (fd >= 0) {
    ::ioctl(fd, VT_ACTIVATE, static_cast<int>(vtnr));
    ::close(fd);
  }
  st.login->simulated_vt = vtnr;
  login_sessions_changed(st, st.login->registry.switch_to_vt(vtnr));
}

// The seat's methods: its sessions' owners may switch between them (the user at the seat); root may anything.
void at_seat(sd_bus_message* m, void* ud, std::function<void(bus_state&, sd_bus_message*)> act) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  with_caller_uid(*s, m, [s, call, act](std::optional<uint32_t> uid) {
    bool allowed = uid && *uid == 0;
    for (const auto& id : s->login->registry.seat_sessions(login::kSeat0)) {
      if (uid && s->login->registry.find(id)->from.uid == *uid) allowed = true;
    }
    if (!allowed) {
      ++s->refused;
      reply_error(call.get(), SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
    } else {
      act(*s, call.get());
      sd_bus_reply_method_return(call.get(), "");
    }
    pump(*s);
  });
}

int method_switch_to(sd_bus_message* m, void* ud, sd_bus_error* error) {
  uint32_t vtnr = 0;
  if (sd_bus_message_read(m, "u", &vtnr) < 0 || vtnr == 0 || vtnr > 63) {
    return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid virtual terminal");
  }
  at_seat(m, ud, [vtnr](bus_state& st, sd_bus_message*) { switch_vt(st, vtnr); });
  return 1;
}

// SwitchToNext / SwitchToPrevious: among the VTs that have a session.
int switch_step(sd_bus_message* m, void* ud, int step) {
  at_seat(m, ud, [step](bus_state& st, sd_bus_message*) {
    std::vector<uint32_t> vts;
    uint32_t current = 0;
    for (const auto& id : st.login->registry.seat_sessions(login::kSeat0)) {
      const auto* s = st.login->registry.find(id);
      if (s->from.vtnr == 0) continue;
      vts.push_back(s->from.vtnr);
      if (s->active) current = s->from.vtnr;
    }
    if (vts.empty()) return;
    std::sort(vts.begin(), vts.end());
    auto at = std::find(vts.begin(), vts.end(), current);
    size_t index = at == vts.end() ? 0 : static_cast<size_t>(at - vts.begin());
    index = (index + vts.size() + static_cast<size_t>(step + static_cast<int>(vts.size()))) % vts.size();
    switch_vt(st, vts[index]);
  });
  return 1;
}
int method_switch_to_next(sd_bus_message* m, void* ud, sd_bus_error*) { return switch_step(m, ud, 1); }
int method_switch_to_previous(sd_bus_message* m, void* ud, sd_bus_error*) { return switch_step(m, ud, -1); }

int method_seat_activate_session(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* id = nullptr;
  if (sd_bus_message_read(m, "s", &id) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  const auto* s = login_of(ud).registry.find(id);
  if (!s || s->from.seat != login::kSeat0) {
    return sd_bus_error_setf(error, "org.freedesktop.login1.NoSuchSession", "No session '%.64s' on this seat", id);
  }
  const std::string session = id;
  at_seat(m, ud, [session](bus_state& st, sd_bus_message*) {
    login_sessions_changed(st, st.login->registry.activate(session));
  });
  return 1;
}

int method_seat_terminate(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call] {
    for (const auto& id : s->login->registry.seat_sessions(login::kSeat0)) {
      login_terminate_session(*s, id, "its seat was terminated");
    }
    sd_bus_reply_method_return(call.get(), "");
    pump(*s);
  });
  return 1;
}

const sd_bus_vtable kSeatVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Id", "s", get_seat_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ActiveSession", "(so)", get_seat_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("CanMultiSession", "b", get_seat_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("CanTTY", "b", get_seat_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("CanGraphical", "b", get_seat_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Sessions", "a(so)", get_seat_property, 0, 0),
    SD_BUS_PROPERTY("IdleHint", "b", get_seat_property, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHint", "t", get_seat_property, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHintMonotonic", "t", get_seat_property, 0, 0),
    SD_BUS_METHOD("Terminate", "", "", method_seat_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ActivateSession", "s", "", method_seat_activate_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SwitchTo", "u", "", method_switch_to, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SwitchToNext", "", "", method_switch_to_next, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SwitchToPrevious", "", "", method_switch_to_previous, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

int add_tree(bus_state& st, const char* tree, const char* interface, const sd_bus_vtable* vtable,
             sd_bus_object_find_t find, sd_bus_node_enumerator_t enumerate) {
  sd_bus_slot* slot = nullptr;
  int r = sd_bus_add_fallback_vtable(st.bus, &slot, tree, interface, vtable, find, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  r = sd_bus_add_node_enumerator(st.bus, &slot, tree, enumerate, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  return 0;
}

}  // namespace

int add_login1_users_and_seats(bus_state& st) {
  const int r = add_tree(st, kUserTree, "org.freedesktop.login1.User", kUserVtable, find_user, enumerate_users);
  return r < 0 ? r : add_tree(st, kSeatTree, "org.freedesktop.login1.Seat", kSeatVtable, find_seat, enumerate_seats);
}

}  // namespace dynamod::dbus
