// org.freedesktop.login1.Manager at /org/freedesktop/login1 (../shared/spec/dbus.md §3): sessions from PAM
// (CreateSession, ReleaseSession), lookups and lists, activating, locking, terminating and killing sessions, and
// the properties; its power methods and inhibitors are in dbus/login1_power.cpp. Mutating methods are root's,
// except that a session's owner may activate, lock, unlock and terminate their own sessions (no polkit to ask).
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/login1_power.hpp"
#include "dbus/login_state.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kPath = "/org/freedesktop/login1";
constexpr const char* kNoSuchSession = "org.freedesktop.login1.NoSuchSession";
constexpr const char* kNoSuchUser = "org.freedesktop.login1.NoSuchUser";
constexpr const char* kNoSuchSeat = "org.freedesktop.login1.NoSuchSeat";
constexpr const char* kNoSessionForPid = "org.freedesktop.login1.NoSessionForPID";
constexpr const char* kNoUserForPid = "org.freedesktop.login1.NoUserForPID";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
login_state& login_of(void* ud) { return *state_of(ud).login; }

uint64_t realtime_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

int refuse(bus_state& st, const message_ref& call, const char* error, const std::string& message) {
  reply_error(call.get(), error, message);
  pump(st);
  return 1;
}

// Runs `then` for root, or for the owner of session `id` when `owner_may`; else AccessDenied.
void require_root_or_owner(bus_state& st, sd_bus_message* m, const std::string& id, bool owner_may,
                           std::function<void()> then) {
  auto call = keep(m);
  bus_state* s = &st;
  with_caller(st, m, [s, call, id, owner_may, then = std::move(then)](caller c) {
    const login::session* session = s->login->registry.find(id);
    if (c.uid && (*c.uid == 0 || (owner_may && session && session->from.uid == *c.uid))) {
      then();
      return;
    }
    ++s->refused;
    refuse(*s, call, SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
  });
}

std::optional<std::pair<std::string, uint32_t>> user_of(uint32_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || !found) return std::nullopt;
  return std::make_pair(std::string(pw.pw_name), static_cast<uint32_t>(pw.pw_gid));
}

std::optional<uint32_t> audit_session_of(uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/sessionid");
  uint64_t id = 0;
  if (!(in >> id) || id == 0 || id >= UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(id);
}

// --- sessions from PAM -----------------------------------------------------------------------------------------

int method_create_session(sd_bus_message* m, void* ud, sd_bus_error* error) {
  login::session_request r;
  const char *service, *type, *klass, *desktop, *seat, *tty, *display, *ruser, *rhost;
  int remote = 0;
  int rc = sd_bus_message_read(m, "uusssssussbss", &r.uid, &r.leader, &service, &type, &klass, &desktop, &seat,
                               &r.vtnr, &tty, &display, &remote, &ruser, &rhost);
  if (rc >= 0) rc = sd_bus_message_skip(m, "a(sv)");  // user-record properties: nothing dynamod applies yet
  if (rc < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (uusssssussbssa(sv)).");
  r.service = service;
  r.type = type;
  r.session_class = klass;
  r.desktop = desktop;
  r.seat = seat;
  r.tty = tty;
  r.display = display;
  r.remote = remote != 0;
  r.remote_user = ruser;
  r.remote_host = rhost;
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  with_caller(*s, m, [s, call, r](caller c) mutable {
    if (!c.uid || *c.uid != 0) {
      ++s->refused;
      refuse(*s, call, SD_BUS_ERROR_ACCESS_DENIED, "Only root may create sessions");
      return;
    }
    if (r.leader == 0 && c.pid) r.leader = *c.pid;
    auto& ls = *s->login;
    if (auto no = login::complete_from_tty(r)) {
      refuse(*s, call, no->error.c_str(), no->message);
      return;
    }
    if (auto no = ls.registry.check(r)) {
      refuse(*s, call, no->error.c_str(), no->message);
      return;
    }
    if (::kill(static_cast<pid_t>(r.leader), 0) < 0 && errno == ESRCH) {
      refuse(*s, call, SD_BUS_ERROR_INVALID_ARGS, "Leader PID " + std::to_string(r.leader) + " does not exist");
      return;
    }
    if (session_of_pid(ls, r.leader)) {
      refuse(*s, call, "org.freedesktop.login1.SessionBusy", "Already running in a session or user slice");
      return;
    }
    auto who = user_of(r.uid);
    if (!who) {
      refuse(*s, call, kNoSuchUser, "No user with uid " + std::to_string(r.uid));
      return;
    }
    login_refresh_seat(*s);
    auto made = ls.registry.create(r, who->first, who->second, audit_session_of(r.leader), foreground_vt(ls),
                                   realtime_usec());
    const int fifo = login_session_created(*s, made.id, made.new_user);
    const login::session* session = ls.registry.find(made.id);
    const auto* user = ls.registry.find_user(r.uid);
    const int sent = fifo < 0 ? -EBADF
                              : sd_bus_reply_method_return(call.get(), "soshusub", made.id.c_str(),
                                                           session_path(made.id).c_str(), user->runtime_path().c_str(),
                                                           fifo, r.uid, session->from.seat.c_str(), session->from.vtnr, false);
    if (fifo >= 0) ::close(fifo);  // the reply holds its own copy
    if (sent < 0) {
      // Without its FIFO (or its answer) the login could never end the session: it is not made at all.
      login_end_session(*s, made.id, "its creation failed");
      refuse(*s, call, SD_BUS_ERROR_FAILED, std::string("Cannot create the session: ") + strerror(-sent));
      return;
    }
    pump(*s);
  });
  return 1;
}

int method_release_session(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* id = nullptr;
  if (sd_bus_message_read(m, "s", &id) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  if (!login_of(ud).registry.find(id)) return sd_bus_error_setf(error, kNoSuchSession, "No session '%.64s' known", id);
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string session = id;
  require_root_or_owner(*s, m, session, false, [s, call, session] {
    login_end_session(*s, session, "released");
    sd_bus_reply_method_return(call.get(), "");
    pump(*s);
  });
  return 1;
}

// --- lookups and lists -----------------------------------------------------------------------------------------

int method_get_session(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* id = nullptr;
  if (sd_bus_message_read(m, "s", &id) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  if (!login_of(ud).registry.find(id)) return sd_bus_error_setf(error, kNoSuchSession, "No session '%.64s' known", id);
  return sd_bus_reply_method_return(m, "o", session_path(id).c_str());
}

int method_get_user(sd_bus_message* m, void* ud, sd_bus_error* error) {
  uint32_t uid = 0;
  if (sd_bus_message_read(m, "u", &uid) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (u).");
  if (!login_of(ud).registry.find_user(uid)) {
    return sd_bus_error_setf(error, kNoSuchUser, "User ID %u is not logged in or lingering", uid);
  }
  return sd_bus_reply_method_return(m, "o", user_path(uid).c_str());
}

int method_get_seat(sd_bus_message* m, void*, sd_bus_error* error) {
  const char* id = nullptr;
  if (sd_bus_message_read(m, "s", &id) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  if (std::string(id) != login::kSeat0) return sd_bus_error_setf(error, kNoSuchSeat, "No seat '%.64s' known", id);
  return sd_bus_reply_method_return(m, "o", seat_path(id).c_str());
}

// GetSessionByPID / GetUserByPID: pid 0 is the caller.
int by_pid(sd_bus_message* m, void* ud, sd_bus_error* error, bool want_user) {
  uint32_t pid = 0;
  if (sd_bus_message_read(m, "u", &pid) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (u).");
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  auto answer = [s, call, want_user](uint32_t pid) {
    auto id = pid ? session_of_pid(*s->login, pid) : std::nullopt;
    if (!id) {
      refuse(*s, call, want_user ? kNoUserForPid : kNoSessionForPid,
             "PID " + std::to_string(pid) + " does not belong to any known " + (want_user ? "user" : "session"));
      return;
    }
    const std::string path = want_user ? user_path(s->login->registry.find(*id)->from.uid) : session_path(*id);
    sd_bus_reply_method_return(call.get(), "o", path.c_str());
    pump(*s);
  };
  if (pid != 0) {
    answer(pid);
  } else {
    with_caller(*s, m, [answer](caller c) { answer(c.pid.value_or(0)); });
  }
  return 1;
}
int method_get_session_by_pid(sd_bus_message* m, void* ud, sd_bus_error* e) { return by_pid(m, ud, e, false); }
int method_get_user_by_pid(sd_bus_message* m, void* ud, sd_bus_error* e) { return by_pid(m, ud, e, true); }

int method_list_sessions(sd_bus_message* m, void* ud, sd_bus_error*) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(susso)");
  for (const auto* s : login_of(ud).registry.sessions()) {
    if (r < 0) break;
    r = sd_bus_message_append(reply, "(susso)", s->id.c_str(), s->from.uid, s->user_name.c_str(), s->from.seat.c_str(),
                              session_path(s->id).c_str());
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

int method_list_users(sd_bus_message* m, void* ud, sd_bus_error*) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(uso)");
  for (const auto* u : login_of(ud).registry.users()) {
    if (r < 0) break;
    r = sd_bus_message_append(reply, "(uso)", u->uid, u->name.c_str(), user_path(u->uid).c_str());
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

int method_list_seats(sd_bus_message* m, void*, sd_bus_error*) {
  return sd_bus_reply_method_return(m, "a(so)", 1, login::kSeat0, seat_path(login::kSeat0).c_str());
}

// --- acting on sessions ----------------------------------------------------------------------------------------

// A method on one session (s id): checked, then `act` for root or (when `owner_may`) its owner.
int on_session(sd_bus_message* m, void* ud, sd_bus_error* error, const char* signature, bool owner_may,
               std::function<std::string(bus_state&, const std::string&, sd_bus_message*)> act) {
  const char* id = nullptr;
  if (sd_bus_message_read(m, "s", &id) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s...).");
  (void)signature;
  if (!login_of(ud).registry.find(id)) return sd_bus_error_setf(error, kNoSuchSession, "No session '%.64s' known", id);
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string session = id;
  require_root_or_owner(*s, m, session, owner_may, [s, call, session, act] {
    if (!s->login->registry.find(session)) {
      refuse(*s, call, kNoSuchSession, "No session '" + session + "' known");
      return;
    }
    const std::string why_not = act(*s, session, call.get());
    if (why_not.empty()) {
      sd_bus_reply_method_return(call.get(), "");
    } else {
      reply_error(call.get(), SD_BUS_ERROR_INVALID_ARGS, why_not);
    }
    pump(*s);
  });
  return 1;
}

std::string activate(bus_state& st, const std::string& id, sd_bus_message*) {
  login_sessions_changed(st, st.login->registry.activate(id));
  return {};
}

std::string set_locked(bus_state& st, const std::string& id, bool locked) {
  // logind asks the session's screen locker by the session's Lock/Unlock signal; LockedHint is the locker's answer.
  sd_bus_emit_signal(st.bus, session_path(id).c_str(), "org.freedesktop.login1.Session", locked ? "Lock" : "Unlock", "");
  return {};
}

std::string terminate(bus_state& st, const std::string& id, sd_bus_message*) {
  login_terminate_session(st, id, "terminated");
  return {};
}

int method_activate_session(sd_bus_message* m, void* ud, sd_bus_error* e) { return on_session(m, ud, e, "s", true, activate); }
int method_activate_session_on_seat(sd_bus_message* m, void* ud, sd_bus_error* e) {
  return on_session(m, ud, e, "ss", true, [](bus_state& st, const std::string& id, sd_bus_message* call) {
    const char* seat = nullptr;
    if (sd_bus_message_read(call, "s", &seat) < 0 || std::string(seat) != st.login->registry.find(id)->from.seat) {
      return std::string("Session not on that seat");
    }
    return activate(st, id, call);
  });
}
int method_lock_session(sd_bus_message* m, void* ud, sd_bus_error* e) {
  return on_session(m, ud, e, "s", true, [](bus_state& st, const std::string& id, sd_bus_message*) { return set_locked(st, id, true); });
}
int method_unlock_session(sd_bus_message* m, void* ud, sd_bus_error* e) {
  return on_session(m, ud, e, "s", true, [](bus_state& st, const std::string& id, sd_bus_message*) { return set_locked(st, id, false); });
}
int method_terminate_session(sd_bus_message* m, void* ud, sd_bus_error* e) { return on_session(m, ud, e, "s", true, terminate); }
int method_kill_session(sd_bus_message* m, void* ud, sd_bus_error* e) {
  return on_session(m, ud, e, "ssi", false, [](bus_state& st, const std::string& id, sd_bus_message* call) {
    const char* who = nullptr;
    int32_t signal = 0;
    if (sd_bus_message_read(call, "si", &who, &signal) < 0 || !login_kill_valid(who, signal)) {
      return std::string("Invalid kill parameters");
    }
    login_kill(*st.login, id, who, signal);
    return std::string();
  });
}

// Lock/UnlockSessions, TerminateUser, KillUser, TerminateSeat: root only.
int all_sessions(sd_bus_message* m, void* ud, std::function<void(bus_state&, sd_bus_message*)> act) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call, act] {
    act(*s, call.get());
    if (!sd_bus_message_is_method_error(call.get(), nullptr)) sd_bus_reply_method_return(call.get(), "");
    pump(*s);
  });
  return 1;
}

std::vector<std::string> session_ids(const login_state& ls, std::optional<uint32_t> uid) {
  std::vector<std::string> ids;
  for (const auto* s : ls.registry.sessions()) {
    if (!uid || s->from.uid == *uid) ids.push_back(s->id);
  }
  return ids;
}

int method_lock_sessions(sd_bus_message* m, void* ud, sd_bus_error*) {
  return all_sessions(m, ud, [](bus_state& st, sd_bus_message*) {
    for (const auto& id : session_ids(*st.login, std::nullopt)) set_locked(st, id, true);
  });
}
int method_unlock_sessions(sd_bus_message* m, void* ud, sd_bus_error*) {
  return all_sessions(m, ud, [](bus_state& st, sd_bus_message*) {
    for (const auto& id : session_ids(*st.login, std::nullopt)) set_locked(st, id, false);
  });
}
int method_terminate_user(sd_bus_message* m, void* ud, sd_bus_error* error) {
  uint32_t uid = 0;
  if (sd_bus_message_read(m, "u", &uid) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (u).");
  if (!login_of(ud).registry.find_user(uid)) return sd_bus_error_setf(error, kNoSuchUser, "User ID %u is not logged in", uid);
  return all_sessions(m, ud, [uid](bus_state& st, sd_bus_message* call) {
    for (const auto& id : session_ids(*st.login, uid)) terminate(st, id, call);
  });
}
int method_kill_user(sd_bus_message* m, void* ud, sd_bus_error* error) {
  uint32_t uid = 0;
  int32_t signal = 0;
  if (sd_bus_message_read(m, "ui", &uid, &signal) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (ui).");
  if (signal <= 0 || signal >= _NSIG) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal");
  if (!login_of(ud).registry.find_user(uid)) return sd_bus_error_setf(error, kNoSuchUser, "User ID %u is not logged in", uid);
  return all_sessions(m, ud, [uid, signal](bus_state& st, sd_bus_message*) {
    for (const auto& id : session_ids(*st.login, uid)) signal_session(*st.login, id, signal);
  });
}
int method_terminate_seat(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* seat = nullptr;
  if (sd_bus_message_read(m, "s", &seat) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
  if (std::string(seat) != login::kSeat0) return sd_bus_error_setf(error, kNoSuchSeat, "No seat '%.64s' known", seat);
  return all_sessions(m, ud, [](bus_state& st, sd_bus_message* call) {
    for (const auto& id : st.login->registry.seat_sessions(login::kSeat0)) terminate(st, id, call);
  });
}

int method_set_user_linger(sd_bus_message* m, void* ud, sd_bus_error* error) {
  uint32_t uid = 0;
  int enable = 0, interactive = 0;
  if (sd_bus_message_read(m, "ubb", &uid, &enable, &interactive) < 0) {
    return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (ubb).");
  }
  if (enable) return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "dynamod does not keep users lingering");
  return all_sessions(m, ud, [](bus_state&, sd_bus_message*) {});
}

// --- properties ---------------------------------------------------------------------------------------------------

int get_counts(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const std::string p = property;
  const auto& ls = login_of(ud);
  uint64_t value = 0;
  if (p == "NCurrentSessions") value = ls.registry.sessions().size();
  if (p == "SessionsMax") value = login::kMaxSessions;
  if (p == "InhibitorsMax") value = login::kMaxInhibitors;
  if (p == "RuntimeDirectorySize") value = 0;
  if (p == "RuntimeDirectoryInodesMax") value = 400000;
  if (p == "InhibitDelayMaxUSec") value = login::kInhibitDelayMaxUsec;
  if (p == "UserStopDelayUSec") value = 10000000;
  return sd_bus_message_append(reply, "t", value);
}

int get_false(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "b", 0);
}

int get_text(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void*, sd_bus_error*) {
  const std::string p = property;
  std::string value;
  if (p == "HandlePowerKey" || p == "HandleRebootKey") value = p == "HandlePowerKey" ? "poweroff" : "reboot";
  if (p == "HandleSuspendKey" || p == "HandleHibernateKey" || p == "HandleLidSwitch" || p == "HandleLidSwitchExternalPower" ||
      p == "HandleLidSwitchDocked" || p == "IdleAction") {
    value = "ignore";
  }
  return sd_bus_message_append(reply, "s", value.c_str());
}

int get_n_auto_vts(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "u", 6u);
}

int get_zero_usec(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "t", uint64_t{0});
}

int get_no_strings(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "as", 0);
}

int get_scheduled_shutdown(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "(st)", "", uint64_t{0});
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("NAutoVTs", "u", get_n_auto_vts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KillOnlyUsers", "as", get_no_strings, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KillExcludeUsers", "as", get_no_strings, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KillUserProcesses", "b", get_false, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RebootToFirmwareSetup", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("IdleHint", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHint", "t", get_zero_usec, 0, 0),
    SD_BUS_PROPERTY("IdleSinceHintMonotonic", "t", get_zero_usec, 0, 0),
    SD_BUS_PROPERTY("BlockInhibited", "s", login1_power::get_inhibited, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("DelayInhibited", "s", login1_power::get_inhibited, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("InhibitDelayMaxUSec", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("UserStopDelayUSec", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandlePowerKey", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleRebootKey", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleSuspendKey", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleHibernateKey", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleLidSwitch", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleLidSwitchExternalPower", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HandleLidSwitchDocked", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("IdleAction", "s", get_text, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("IdleActionUSec", "t", get_zero_usec, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("PreparingForShutdown", "b", login1_power::get_preparing_for_shutdown, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("PreparingForSleep", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("ScheduledShutdown", "(st)", get_scheduled_shutdown, 0, 0),
    SD_BUS_PROPERTY("Docked", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("LidClosed", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("OnExternalPower", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("RemoveIPC", "b", get_false, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RuntimeDirectorySize", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RuntimeDirectoryInodesMax", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("InhibitorsMax", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("NCurrentInhibitors", "t", login1_power::get_n_inhibitors, 0, 0),
    SD_BUS_PROPERTY("SessionsMax", "t", get_counts, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("NCurrentSessions", "t", get_counts, 0, 0),
    SD_BUS_METHOD("GetSession", "s", "o", method_get_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetSessionByPID", "u", "o", method_get_session_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetUser", "u", "o", method_get_user, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetUserByPID", "u", "o", method_get_user_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetSeat", "s", "o", method_get_seat, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListSessions", "", "a(susso)", method_list_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUsers", "", "a(uso)", method_list_users, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListSeats", "", "a(so)", method_list_seats, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListInhibitors", "", "a(ssssuu)", login1_power::list_inhibitors, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Inhibit", "ssss", "h", login1_power::inhibit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CreateSession", "uusssssussbssa(sv)", "soshusub", method_create_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReleaseSession", "s", "", method_release_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ActivateSession", "s", "", method_activate_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ActivateSessionOnSeat", "ss", "", method_activate_session_on_seat, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("LockSession", "s", "", method_lock_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("UnlockSession", "s", "", method_unlock_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("LockSessions", "", "", method_lock_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("UnlockSessions", "", "", method_unlock_sessions, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("KillSession", "ssi", "", method_kill_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("KillUser", "ui", "", method_kill_user, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TerminateSession", "s", "", method_terminate_session, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TerminateUser", "u", "", method_terminate_user, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TerminateSeat", "s", "", method_terminate_seat, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetUserLinger", "ubb", "", method_set_user_linger, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("PowerOff", "b", "", login1_power::power_off, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reboot", "b", "", login1_power::reboot, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Halt", "b", "", login1_power::halt, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("PowerOffWithFlags", "t", "", login1_power::power_off_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RebootWithFlags", "t", "", login1_power::reboot_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("HaltWithFlags", "t", "", login1_power::halt_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Suspend", "b", "", login1_power::sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Hibernate", "b", "", login1_power::sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("HybridSleep", "b", "", login1_power::sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SuspendThenHibernate", "b", "", login1_power::sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanPowerOff", "", "s", login1_power::can_power, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanReboot", "", "s", login1_power::can_power, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanHalt", "", "s", login1_power::can_power, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanSuspend", "", "s", login1_power::can_sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanHibernate", "", "s", login1_power::can_sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanHybridSleep", "", "s", login1_power::can_sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CanSuspendThenHibernate", "", "s", login1_power::can_sleep, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("SessionNew", "so", 0),
    SD_BUS_SIGNAL("SessionRemoved", "so", 0),
    SD_BUS_SIGNAL("UserNew", "uo", 0),
    SD_BUS_SIGNAL("UserRemoved", "uo", 0),
    SD_BUS_SIGNAL("SeatNew", "so", 0),
    SD_BUS_SIGNAL("SeatRemoved", "so", 0),
    SD_BUS_SIGNAL("PrepareForShutdown", "b", 0),
    SD_BUS_SIGNAL("PrepareForSleep", "b", 0),
    SD_BUS_VTABLE_END};

}  // namespace

int add_login1_manager(bus_state& st) {
  return add_vtable_object(st, kPath, "org.freedesktop.login1.Manager", kManagerVtable);
}

}  // namespace dynamod::dbus
