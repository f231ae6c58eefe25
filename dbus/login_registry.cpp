#include "dbus/login_registry.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "dbus/system_settings.hpp"

namespace dynamod::dbus::login {

namespace {

constexpr const char* kInvalidArgs = "org.freedesktop.DBus.Error.InvalidArgs";
constexpr size_t kMaxText = 255;

bool graphical(const session& s) {
  const auto& t = s.from.type;
  return t == "x11" || t == "wayland" || t == "mir";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

void line(std::ostringstream& out, const char* key, const std::string& value, bool always = true) {
  if (always || !value.empty()) out << key << '=' << value << '\n';
}

}  // namespace

std::optional<login_registry::refused> complete_from_tty(session_request& r) {
  std::string tty = r.tty;
  if (tty.rfind("/dev/", 0) == 0) tty = tty.substr(5);
  const bool vc = tty.size() > 3 && tty.size() <= 5 && tty.rfind("tty", 0) == 0 && tty[3] != '0' &&
                  tty.find_first_not_of("0123456789", 3) == std::string::npos;
  if (vc) {
    if (!r.seat.empty() && r.seat != kSeat0) {
      return login_registry::refused{kInvalidArgs, "TTY " + tty + " is virtual console but seat " +
                                                       r.seat.substr(0, kMaxText) + " is not seat0"};
    }
    const auto v = static_cast<uint32_t>(std::stoul(tty.substr(3)));
    if (v > 63) return login_registry::refused{kInvalidArgs, "Cannot determine VT number from virtual console TTY " + tty};
    if (r.vtnr != 0 && r.vtnr != v) return login_registry::refused{kInvalidArgs, "Specified TTY and VT number do not match"};
    r.seat = kSeat0;
    r.vtnr = v;
  } else if (tty == "console") {
    if (!r.seat.empty() && r.seat != kSeat0) {
      return login_registry::refused{kInvalidArgs, "Console TTY specified but seat is not seat0"};
    }
    if (r.vtnr != 0) return login_registry::refused{kInvalidArgs, "Console TTY specified but VT number is not 0"};
    r.seat = kSeat0;
  }
  return std::nullopt;
}

bool session_id_is_valid(const std::string& id) {
  return !id.empty() && id.size() <= kMaxText &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
}

std::optional<login_registry::refused> login_registry::check(const session_request& r) const {
  static const std::set<std::string> types{"", "tty", "x11", "wayland", "mir", "unspecified"};
  static const std::set<std::string> classes{"", "user", "greeter", "lock-screen", "background"};
  if (r.leader == 0) return refused{kInvalidArgs, "Invalid leader PID"};
  if (!types.count(r.type)) return refused{kInvalidArgs, "Invalid session type " + r.type.substr(0, kMaxText)};
  if (!classes.count(r.session_class)) {
    return refused{kInvalidArgs, "Invalid session class " + r.session_class.substr(0, kMaxText)};
  }
  if (!r.seat.empty() && r.seat != kSeat0) {
    return refused{"org.freedesktop.login1.NoSuchSeat", "No seat '" + r.seat.substr(0, kMaxText) + "' known"};
  }
  if (r.seat.empty() && r.vtnr != 0) return refused{kInvalidArgs, "VT number specified for seat without VTs"};
  if (r.vtnr > 63) return refused{kInvalidArgs, "VT number out of range"};
  for (const auto* text : {&r.service, &r.desktop, &r.tty, &r.display, &r.remote_user, &r.remote_host}) {
    if (text->size() > kMaxText || text->find('\n') != std::string::npos) {
      return refused{kInvalidArgs, "Argument too long or with a newline"};
    }
  }
  if (by_leader(r.leader)) {
    return refused{"org.freedesktop.login1.SessionBusy", "Already running in a session or user slice"};
  }
  if (sessions_.size() >= kMaxSessions) {
    return refused{"org.freedesktop.DBus.Error.LimitsExceeded",
                   "Maximum number of sessions (" + std::to_string(kMaxSessions) + ") reached, refusing further sessions."};
  }
  return std::nullopt;
}

login_registry::created login_registry::create(const session_request& r, const std::string& user_name, uint32_t gid,
                                               std::optional<uint32_t> audit_session, uint32_t foreground_vt,
                                               uint64_t now_us) {
  created out;
  std::string id;
  if (audit_session && *audit_session != 0 && *audit_session != UINT32_MAX &&
      !sessions_.count(std::to_string(*audit_session))) {
    id = std::to_string(*audit_session);
  } else {
    do {
      id = "c" + std::to_string(++counter_);
    } while (sessions_.count(id));
  }
  session s;
  s.id = id;
  s.from = r;
  if (s.from.type.empty()) s.from.type = "unspecified";
  if (s.from.session_class.empty()) s.from.session_class = "user";
  s.user_name = user_name;
  s.since_us = now_us;
  auto [it, inserted] = users_.try_emplace(r.uid);
  if (inserted) {
    it->second.uid = r.uid;
    it->second.gid = gid;
    it->second.name = user_name;
    it->second.since_us = now_us;
    out.new_user = true;
  }
  it->second.sessions.push_back(id);
  sessions_.emplace(id, std::move(s));
  order_.push_back(id);
  session& made = sessions_.at(id);
  if (made.from.seat.empty()) {
    made.active = true;  // logind: a session without a seat is always active
  } else if (made.from.vtnr != 0 ? made.from.vtnr == foreground_vt : !active_session(made.from.seat)) {
    activate(id);
  }
  out.id = id;
  return out;
}

std::optional<login_registry::ended> login_registry::remove(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  ended out;
  const uint32_t uid = it->second.from.uid;
  sessions_.erase(it);
  order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
  if (auto u = users_.find(uid); u != users_.end()) {
    auto& list = u->second.sessions;
    list.erase(std::remove(list.begin(), list.end(), id), list.end());
    if (list.empty()) {
      users_.erase(u);
      out.user_gone = true;
    }
  }
  return out;
}

bool login_registry::restore(const std::string& id, const std::string& file_text, uint32_t gid) {
  if (!session_id_is_valid(id) || sessions_.count(id)) return false;
  const auto v = parse_assignments(file_text);
  auto get = [&](const char* key) {
    auto it = v.find(key);
    return it == v.end() ? std::string() : it->second;
  };
  auto number = [&](const char* key) -> std::optional<uint64_t> {
    const std::string t = get(key);
    if (t.empty() || t.size() > 20 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(t);
  };
  const auto uid = number("UID");
  const auto leader = number("LEADER");
  if (!uid || *uid > UINT32_MAX || !leader || *leader == 0 || *leader > UINT32_MAX) return false;
  session_request r;
  r.uid = static_cast<uint32_t>(*uid);
  r.leader = static_cast<uint32_t>(*leader);
  r.service = get("SERVICE");
  r.type = get("TYPE");
  r.session_class = get("CLASS");
  r.desktop = get("DESKTOP");
  r.seat = get("SEAT");
  r.vtnr = static_cast<uint32_t>(number("VTNR").value_or(0));
  r.tty = get("TTY");
  r.display = get("DISPLAY");
  r.remote = get("REMOTE") == "1";
  r.remote_user = get("REMOTE_USER");
  r.remote_host = get("REMOTE_HOST");
  if (check(r)) return false;  // what CreateSession would refuse is not taken from a file either
  session s;
  s.id = id;
  s.from = r;
  if (s.from.type.empty()) s.from.type = "unspecified";
  if (s.from.session_class.empty()) s.from.session_class = "user";
  s.user_name = get("USER");
  s.since_us = number("REALTIME").value_or(0);
  s.active = get("ACTIVE") == "1";
  s.closing = get("STATE") == "closing";
  s.controller = get("CONTROLLER");
  auto [it, inserted] = users_.try_emplace(r.uid);
  if (inserted) {
    it->second.uid = r.uid;
    it->second.gid = gid;
    it->second.name = s.user_name;
    it->second.since_us = s.since_us;
  }
  it->second.sessions.push_back(id);
  sessions_.emplace(id, std::move(s));
  order_.push_back(id);
  // A counter id ("c7") continues after the highest restored one.
  if (id.size() > 1 && id[0] == 'c' && id.find_first_not_of("0123456789", 1) == std::string::npos && id.size() < 20) {
    counter_ = std::max<uint64_t>(counter_, std::stoull(id.substr(1)));
  }
  return true;
}

std::vector<std::string> login_registry::switch_to_vt(uint32_t vtnr) {
  std::vector<std::string> changed;
  const session* target = nullptr;
  for (const auto& id : order_) {
    const session& s = sessions_.at(id);
    if (s.from.seat == kSeat0 && s.from.vtnr == vtnr && vtnr != 0 && !s.closing) target = &s;
  }
  for (const auto& id : order_) {
    session& s = sessions_.at(id);
    if (s.from.seat != kSeat0) continue;
    const bool now = target && target->id == s.id;
    if (s.active != now) {
      s.active = now;
      changed.push_back(s.id);
    }
  }
  return changed;
}

std::vector<std::string> login_registry::activate(const std::string& id) {
  std::vector<std::string> changed;
  session* target = find(id);
  if (!target || target->from.seat.empty()) return changed;  // seatless sessions are active anyway
  for (const auto& other : order_) {
    session& s = sessions_.at(other);
    if (s.from.seat != target->from.seat) continue;
    const bool now = s.id == id;
    if (s.active != now) {
      s.active = now;
      changed.push_back(s.id);
    }
  }
  return changed;
}

session* login_registry::find(const std::string& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const session* login_registry::find(const std::string& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const session* login_registry::by_leader(uint32_t pid) const {
  for (const auto& [id, s] : sessions_) {
    if (s.from.leader == pid) return &s;
  }
  return nullptr;
}

const user* login_registry::find_user(uint32_t uid) const {
  auto it = users_.find(uid);
  return it == users_.end() ? nullptr : &it->second;
}

std::vector<const session*> login_registry::sessions() const {
  std::vector<const session*> out;
  for (const auto& id : order_) out.push_back(&sessions_.at(id));
  return out;
}

std::vector<const user*> login_registry::users() const {
  std::vector<const user*> out;
  for (const auto& [uid, u] : users_) out.push_back(&u);
  return out;
}

std::optional<std::string> login_registry::active_session(const std::string& seat) const {
  for (const auto& id : order_) {
    const session& s = sessions_.at(id);
    if (s.from.seat == seat && s.active) return id;
  }
  return std::nullopt;
}

std::vector<std::string> login_registry::seat_sessions(const std::string& seat) const {
  std::vector<std::string> out;
  for (const auto& id : order_) {
    if (sessions_.at(id).from.seat == seat) out.push_back(id);
  }
  return out;
}

namespace {

// logind's "display" session of a user: a graphical one first, else one on a seat, else the first.
const session* display_of(const login_registry& reg, const user& u) {
  const session* seated = nullptr;
  const session* first = nullptr;
  for (const auto& id : u.sessions) {
    const session* s = reg.find(id);
    if (!s || s->closing) continue;
    if (graphical(*s)) return s;
    if (!seated && !s->from.seat.empty()) seated = s;
    if (!first) first = s;
  }
  return seated ? seated : first;
}

}  // namespace

std::string login_registry::session_file(const session& s) const {
  std::ostringstream out;
  out << "# This is private data. Do not parse.\n";
  line(out, "UID", std::to_string(s.from.uid));
  line(out, "USER", s.user_name);
  line(out, "ACTIVE", s.active ? "1" : "0");
  const user* u = find_user(s.from.uid);
  const session* display = u ? display_of(*this, *u) : nullptr;
  line(out, "IS_DISPLAY", display && display->id == s.id ? "1" : "0");
  line(out, "STATE", s.state());
  line(out, "REMOTE", s.from.remote ? "1" : "0");
  line(out, "TYPE", s.from.type);
  line(out, "CLASS", s.from.session_class);
  line(out, "SCOPE", s.scope());
  line(out, "SEAT", s.from.seat, false);
  line(out, "TTY", s.from.tty, false);
  line(out, "DISPLAY", s.from.display, false);
  line(out, "REMOTE_HOST", s.from.remote_host, false);
  line(out, "REMOTE_USER", s.from.remote_user, false);
  line(out, "SERVICE", s.from.service, false);
  line(out, "DESKTOP", s.from.desktop, false);
  if (s.from.vtnr != 0) line(out, "VTNR", std::to_string(s.from.vtnr));
  line(out, "LEADER", std::to_string(s.from.leader));
  line(out, "REALTIME", std::to_string(s.since_us));
  line(out, "CONTROLLER", s.controller, false);
  return out.str();
}

std::string login_registry::user_file(const user& u) const {
  std::vector<std::string> all, active, online, seats, active_seats;
  bool any_active = false;
  for (const auto& id : u.sessions) {
    const session* s = find(id);
    if (!s) continue;
    all.push_back(id);
    if (!s->closing) online.push_back(id);
    if (s->active && !s->closing) {
      active.push_back(id);
      any_active = true;
    }
    if (!s->from.seat.empty()) {
      if (std::find(seats.begin(), seats.end(), s->from.seat) == seats.end()) seats.push_back(s->from.seat);
      if (s->active && std::find(active_seats.begin(), active_seats.end(), s->from.seat) == active_seats.end()) {
        active_seats.push_back(s->from.seat);
      }
    }
  }
  std::ostringstream out;
  out << "# This is private data. Do not parse.\n";
  line(out, "NAME", u.name);
  line(out, "STATE", any_active ? "active" : online.empty() ? "closing" : "online");
  line(out, "STOPPING", "no");
  line(out, "RUNTIME", u.runtime_path());
  line(out, "SLICE", u.slice());
  if (const session* d = display_of(*this, u)) line(out, "DISPLAY", d->id);
  line(out, "REALTIME", std::to_string(u.since_us));
  line(out, "SESSIONS", join(all));
  line(out, "SEATS", join(seats));
  line(out, "ACTIVE_SESSIONS", join(active));
  line(out, "ONLINE_SESSIONS", join(online));
  line(out, "ACTIVE_SEATS", join(active_seats));
  line(out, "ONLINE_SEATS", join(seats));
  return out.str();
}

std::string login_registry::seat_file(const std::string& seat) const {
  std::ostringstream out;
  out << "# This is private data. Do not parse.\n";
  line(out, "IS_SEAT0", seat == kSeat0 ? "1" : "0");
  line(out, "CAN_MULTI_SESSION", "1");
  line(out, "CAN_TTY", seat == kSeat0 ? "1" : "0");
  line(out, "CAN_GRAPHICAL", seat_graphical_ ? "1" : "0");
  const auto active = active_session(seat);
  if (active) {
    line(out, "ACTIVE", *active);
    line(out, "ACTIVE_UID", std::to_string(find(*active)->from.uid));
  }
  std::vector<std::string> ids, uids;
  for (const auto& id : seat_sessions(seat)) {
    ids.push_back(id);
    uids.push_back(std::to_string(find(id)->from.uid));
  }
  line(out, "SESSIONS", join(ids));
  line(out, "UIDS", join(uids));
  return out.str();
}

}  // namespace dynamod::dbus::login
