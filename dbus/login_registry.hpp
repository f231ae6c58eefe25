// org.freedesktop.login1's bookkeeping (issue 18): sessions, users and seats as logind keeps them, and the files
// sd-login reads (/run/systemd/sessions/<id>, users/<uid>, seats/<seat>: ../shared/spec/dbus.md §3). Pure: the
// login1 actor brings what it learned from the system (the leader's audit session, the foreground VT, the user's
// name) and carries out the changes (files, the runtime directory, cgroups, signals).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod::dbus::login {

// CreateSession's arguments as pam_systemd sends them.
struct session_request {
  uint32_t uid = 0;
  uint32_t leader = 0;  // pid
  std::string service;  // "login", "sshd", "gdm-autologin", ...
  std::string type;     // tty, x11, wayland, mir, unspecified ("" = unspecified)
  std::string session_class;  // user, greeter, lock-screen, background ("" = user)
  std::string desktop;
  std::string seat;     // "" or "seat0"
  uint32_t vtnr = 0;
  std::string tty;
  std::string display;
  bool remote = false;
  std::string remote_user;
  std::string remote_host;
};

struct session {
  std::string id;
  session_request from;
  std::string user_name;
  uint64_t since_us = 0;  // realtime
  bool active = false;
  bool closing = false;   // its leader has exited, or it was released; processes may linger
  bool idle = false;
  bool locked = false;
  std::string controller;  // the bus name that took control (TakeControl), or ""
  std::string state() const { return closing ? "closing" : active ? "active" : "online"; }
  std::string scope() const { return "session-" + id + ".scope"; }
};

struct user {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string name;
  uint64_t since_us = 0;
  std::vector<std::string> sessions;  // in creation order
  std::string runtime_path() const { return "/run/user/" + std::to_string(uid); }
  std::string slice() const { return "user-" + std::to_string(uid) + ".slice"; }
};

inline constexpr const char* kSeat0 = "seat0";
inline constexpr size_t kMaxSessions = 8192;  // systemd's SessionsMax default

class login_registry {
 public:
  struct created {
    std::string id;
    bool existing = false;   // the leader already had a session: that one is returned (pam in a session)
    bool new_user = false;   // the user's first session: create its runtime directory (and session bus)
  };
  struct refused {
    std::string error;    // D-Bus error name
    std::string message;
  };
  // `audit_session`: the leader's /proc/PID/sessionid when valid (logind uses it as the id), else a counter's
  // "c<N>". `foreground_vt`: the VT on the console now (0: unknown).
  std::optional<refused> check(const session_request& r) const;
  created create(const session_request& r, const std::string& user_name, uint32_t gid,
                 std::optional<uint32_t> audit_session, uint32_t foreground_vt, uint64_t now_us);

  struct ended {
    bool user_gone = false;  // its last session: remove the runtime directory, stop its session bus
    std::optional<std::string> now_active;  // the seat's session that became active instead, if any
  };
  // ReleaseSession / TerminateSession / the leader's exit: the session is gone (its files removed).
  std::optional<ended> remove(const std::string& id);

  // A session as a previous login1 left it in /run/systemd/sessions/<id> (the actor restarts, as logind does, with
  // the sessions that still exist); false for a file that does not describe one (bad id, no UID or LEADER, a
  // type or class login1 would refuse) or an id already known.
  bool restore(const std::string& id, const std::string& file_text, uint32_t gid);

  // The VT on the console changed (or Activate/SwitchTo): the session on `vtnr` becomes the seat's active one.
  // Returns the sessions whose Active changed.
  std::vector<std::string> switch_to_vt(uint32_t vtnr);
  std::vector<std::string> activate(const std::string& id);

  session* find(const std::string& id);
  const session* find(const std::string& id) const;
  const session* by_leader(uint32_t pid) const;
  const user* find_user(uint32_t uid) const;
  std::vector<const session*> sessions() const;
  std::vector<const user*> users() const;
  std::optional<std::string> active_session(const std::string& seat) const;
  std::vector<std::string> seat_sessions(const std::string& seat) const;

  // The files sd-login reads (KEY=value lines; written by rename).
  std::string session_file(const session& s) const;
  std::string user_file(const user& u) const;
  std::string seat_file(const std::string& seat) const;

  // seat0 can run a graphical session once it has a DRM device (/dev/dri/card*); libseat waits for it.
  void set_seat_graphical(bool graphical) { seat_graphical_ = graphical; }
  bool seat_graphical() const { return seat_graphical_; }

 private:
  std::map<std::string, session> sessions_;
  std::vector<std::string> order_;  // creation order
  std::map<uint32_t, user> users_;
  uint64_t counter_ = 0;
  bool seat_graphical_ = false;
};

// What logind derives from the TTY before it checks a request: a virtual console ("tty3") puts the session on
// seat0 with that VT (pam_systemd sends the tty alone), "console" on seat0 without one. A contradiction (another
// seat, another VT) is refused.
std::optional<login_registry::refused> complete_from_tty(session_request& r);

// systemd's session_id_valid: [A-Za-z0-9], 1..255 bytes (object paths escape it anyway).
bool session_id_is_valid(const std::string& id);

}  // namespace dynamod::dbus::login
