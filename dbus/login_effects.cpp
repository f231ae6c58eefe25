// What login1's bookkeeping means on the system (see dbus/login_state.hpp): files sd-login reads, FIFOs, pidfds,
// runtime directories, cgroups, and the Manager's signals.
#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kManagerPath = "/org/freedesktop/login1";
constexpr const char* kManager = "org.freedesktop.login1.Manager";
constexpr const char* kSessionInterface = "org.freedesktop.login1.Session";

login_state& ls_of(bus_state& st) { return *st.login; }
std::string dir_of(const login_state& ls, const char* part) { return ls.paths.systemd_dir + "/" + part; }

}  // namespace

// sd-login lists these directories (skipping dot files) and watches them for IN_MOVED_TO | IN_DELETE: each file is
// written under a hidden name and renamed into place. Files and directories are world-readable whatever the
// runtime's umask: dbus-daemon (as messagebus) reads users/UID for each new connection once seats/ exists, and
// refuses every connection of a user whose file it cannot read.
void login_write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string tmp = dir + "/.#" + name, path = dir + "/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  bool ok = fd >= 0 && ::fchmod(fd, 0644) == 0;
  for (size_t off = 0; ok && off < text.size();) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  if (fd >= 0 && ::close(fd) < 0) ok = false;
  if (ok && ::rename(tmp.c_str(), path.c_str()) < 0) ok = false;
  if (!ok) {
    spdlog::error("login1: cannot write {}: {}", path, strerror(errno));
    ::unlink(tmp.c_str());
  }
}

namespace {

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) spdlog::warn("login1: cannot remove {}: {}", path, strerror(errno));
}

void write_seat_file(login_state& ls) {
  login_write_file(dir_of(ls, "seats"), login::kSeat0, ls.registry.seat_file(login::kSeat0));
}

void write_user_file(login_state& ls, uint32_t uid) {
  if (const auto* u = ls.registry.find_user(uid)) {
    login_write_file(dir_of(ls, "users"), std::to_string(uid), ls.registry.user_file(*u));
  }
}

void write_session_file(login_state& ls, const std::string& id) {
  if (const auto* s = ls.registry.find(id)) login_write_file(dir_of(ls, "sessions"), id, ls.registry.session_file(*s));
}

std::string scope_dir(const login_state& ls, const login::session& s) {
  if (ls.paths.cgroup_root.empty()) return "";
  return ls.paths.cgroup_root + "/user.slice/user-" + std::to_string(s.from.uid) + ".slice/" + s.scope();
}

// sd-login finds a process's session and owner from its cgroup's path: user.slice/user-UID.slice/session-ID.scope.
void move_leader_into_scope(const login_state& ls, const login::session& s) {
  const std::string scope = scope_dir(ls, s);
  if (scope.empty()) return;
  const std::string slice = scope.substr(0, scope.rfind('/'));
  for (const std::string& dir : {ls.paths.cgroup_root + "/user.slice", slice, scope}) {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
      spdlog::warn("login1: cannot create cgroup {}: {}", dir, strerror(errno));
      return;
    }
  }
  std::ofstream procs(scope + "/cgroup.procs");
  procs << s.from.leader << std::flush;
  if (!procs) spdlog::warn("login1: cannot move pid {} into {}", s.from.leader, scope);
}

void remove_scope(const login_state& ls, const login::session& s) {
  const std::string scope = scope_dir(ls, s);
  if (scope.empty()) return;
  // Processes that outlive the session keep its scope (KillUserProcesses=no, as Debian's logind); an empty one goes.
  if (::rmdir(scope.c_str()) < 0 && errno != EBUSY && errno != ENOENT) {
    spdlog::warn("login1: cannot remove {}: {}", scope, strerror(errno));
  }
}

// /run/user/UID: a tmpfs of the user's own (as logind mounts it, so one user cannot fill /run for everyone),
// a plain directory where mounting is not possible.
void make_runtime_dir(const login_state& ls, const login::user& u) {
  const std::string dir = ls.paths.user_runtime_dir + "/" + std::to_string(u.uid);
  if (::mkdir(ls.paths.user_runtime_dir.c_str(), 0755) < 0 && errno != EEXIST) {
    spdlog::error("login1: cannot create {}: {}", ls.paths.user_runtime_dir, strerror(errno));
    return;
  }
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
    spdlog::error("login1: cannot create {}: {}", dir, strerror(errno));
    return;
  }
  const std::string options = "mode=0700,uid=" + std::to_string(u.uid) + ",gid=" + std::to_string(u.gid) +
                              ",size=10%,nr_inodes=400k";
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NODEV | MS_NOSUID, options.c_str()) < 0) {
    spdlog::info("login1: {} is a plain directory (no tmpfs: {})", dir, strerror(errno));
  }
  if (::chown(dir.c_str(), u.uid, u.gid) < 0 || ::chmod(dir.c_str(), 0700) < 0) {
    spdlog::error("login1: cannot hand {} to uid {}: {}", dir, u.uid, strerror(errno));
  }
}

void remove_runtime_dir(const login_state& ls, uint32_t uid) {
  const std::string dir = ls.paths.user_runtime_dir + "/" + std::to_string(uid);
  ::umount2(dir.c_str(), MNT_DETACH);  // not mounted: EINVAL, and the directory's contents go below
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // does not follow symbolic links the user left there
  if (ec) spdlog::warn("login1: cannot remove {}: {}", dir, ec.message());
}

std::optional<uint32_t> gid_of(uint32_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || !found) return std::nullopt;
  return pw.pw_gid;
}

// sysfs attributes signal a change with POLLPRI; FIFOs and pidfds turn readable.
void arm(bus_state& st, uint64_t tag, const login_state::watch& w) {
  const uint32_t events = w.what == login_state::watch::kind::vt ? EPOLLPRI : EPOLLIN;
  st.args.ctx->loop->watch(w.fd, events, caf::actor_cast<caf::actor>(st.self), tag);
}

void forget_watch(bus_state& st, std::map<uint64_t, login_state::watch>::iterator it) {
  st.args.ctx->loop->forget(it->second.fd);
  ::close(it->second.fd);
  ls_of(st).watches.erase(it);
}

bool watch_leader(bus_state& st, const std::string& id, uint32_t leader) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(leader), 0));
  if (fd < 0) return false;
  login_watch(st, {login_state::watch::kind::leader, fd, id, 0});
  return true;
}

// The session's reference FIFO: pam_systemd keeps the write end for as long as the login lasts; its hang-up ends
// the session. Returns the write end, or -1.
int open_fifo(bus_state& st, const std::string& id, bool create) {
  const std::string path = dir_of(ls_of(st), "sessions") + "/" + id + ".ref";
  if (create && ::mkfifo(path.c_str(), 0600) < 0 && errno != EEXIST) {
    spdlog::warn("login1: cannot create {}: {}", path, strerror(errno));
    return -1;
  }
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (reader < 0) return -1;
  login_watch(st, {login_state::watch::kind::fifo, reader, id, 0});
  if (!create) return -1;
  return ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
}

// libseat and mutter wait for CanGraphical: a seat with a DRM card (card0, not its connectors card0-HDMI-A-1).
bool has_drm_card() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/drm", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("card", 0) == 0 && name.find('-') == std::string::npos) return true;
  }
  return false;
}

bool process_exists(uint32_t pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

std::string session_path(const std::string& id) {
  char* path = nullptr;
  if (sd_bus_path_encode("/org/freedesktop/login1/session", id.c_str(), &path) < 0) return "/";
  std::string out = path;
  free(path);
  return out;
}

std::string user_path(uint32_t uid) { return "/org/freedesktop/login1/user/_" + std::to_string(uid); }

std::string seat_path(const std::string& seat) {
  char* path = nullptr;
  if (sd_bus_path_encode("/org/freedesktop/login1/seat", seat.c_str(), &path) < 0) return "/";
  std::string out = path;
  free(path);
  return out;
}

namespace {

// sysfs attributes are re-read from offset 0; a change is signalled with POLLPRI (logind watches the same file).
uint32_t read_active_vt(int fd) {
  char buf[32] = {};
  if (::lseek(fd, 0, SEEK_SET) < 0) return 0;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  if (n < 4 || std::strncmp(buf, "tty", 3) != 0) return 0;
  return static_cast<uint32_t>(std::strtoul(buf + 3, nullptr, 10));
}

void watch_active_vt(bus_state& st) {
  const int fd = ::open("/sys/class/tty/tty0/active", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("login1: cannot watch the active VT: {}", strerror(errno));
    return;
  }
  read_active_vt(fd);  // POLLPRI reports changes after this read
  login_watch(st, {login_state::watch::kind::vt, fd, "", 0});
}

}  // namespace

uint32_t foreground_vt(const login_state& ls) {
  if (!ls.paths.console) return ls.simulated_vt;
  std::ifstream in("/sys/class/tty/tty0/active");
  std::string name;
  if (!(in >> name) || name.rfind("tty", 0) != 0) return 0;
  return static_cast<uint32_t>(std::strtoul(name.c_str() + 3, nullptr, 10));
}

void login_start(bus_state& st) {
  auto& ls = ls_of(st);
  // seats/ last: its existence tells dbus-daemon and sd-login that users/ is there to be read.
  for (const std::string& dir : {ls.paths.systemd_dir, dir_of(ls, "sessions"), dir_of(ls, "users"), dir_of(ls, "inhibit"),
                                 dir_of(ls, "seats")}) {
    if ((::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) || ::chmod(dir.c_str(), 0755) < 0) {
      spdlog::error("login1: cannot create {}: {}", dir, strerror(errno));
    }
  }
  ls.registry.set_seat_graphical(has_drm_card());
  std::error_code ec;
  // Sessions a previous login1 left: kept while their leader runs (as logind does when it restarts).
  std::vector<std::string> stale;
  for (const auto& entry : std::filesystem::directory_iterator(dir_of(ls, "sessions"), ec)) {
    const std::string id = entry.path().filename().string();
    if (!login::session_id_is_valid(id)) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const auto uid_line = text.str().find("\nUID=");
    const uint32_t uid = uid_line == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(text.str().c_str() + uid_line + 5, nullptr, 10));
    const auto gid = gid_of(uid);
    if (!gid || !ls.registry.restore(id, text.str(), *gid) || !process_exists(ls.registry.find(id)->from.leader) ||
        !watch_leader(st, id, ls.registry.find(id)->from.leader)) {
      if (ls.registry.find(id)) ls.registry.remove(id);
      stale.push_back(id);
      continue;
    }
    open_fifo(st, id, false);
    spdlog::info("login1: session {} of uid {} carried over", id, uid);
  }
  for (const auto& id : stale) {
    remove_file(dir_of(ls, "sessions") + "/" + id);
    remove_file(dir_of(ls, "sessions") + "/" + id + ".ref");
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir_of(ls, "users"), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || name.find_first_not_of("0123456789") != std::string::npos || name.size() > 10) continue;
    if (!ls.registry.find_user(static_cast<uint32_t>(std::stoul(name)))) remove_file(entry.path().string());
  }
  for (const auto* u : ls.registry.users()) write_user_file(ls, u->uid);
  write_seat_file(ls);
  login_restore_inhibitors(st);
  if (ls.paths.console) watch_active_vt(st);
}

int login_session_created(bus_state& st, const std::string& id, bool new_user) {
  auto& ls = ls_of(st);
  const login::session* s = ls.registry.find(id);
  if (!s) return -1;
  const uint32_t uid = s->from.uid;
  ++ls.created;
  if (new_user) make_runtime_dir(ls, *ls.registry.find_user(uid));
  if (!ls.session_buses.count(uid)) login_start_user_bus(st, *ls.registry.find_user(uid));
  move_leader_into_scope(ls, *s);
  write_session_file(ls, id);
  write_user_file(ls, uid);
  write_seat_file(ls);
  watch_leader(st, id, s->from.leader);
  const int fifo = open_fifo(st, id, true);
  spdlog::info("login1: new session {} of user {} (uid {}, leader {}, {} {})", id, s->user_name, uid, s->from.leader,
               s->from.type, s->from.session_class);
  sd_bus_emit_signal(st.bus, kManagerPath, kManager, "SessionNew", "so", id.c_str(), session_path(id).c_str());
  if (new_user) sd_bus_emit_signal(st.bus, kManagerPath, kManager, "UserNew", "uo", uid, user_path(uid).c_str());
  return fifo;
}

void login_end_session(bus_state& st, const std::string& id, const char* why) {
  auto& ls = ls_of(st);
  const login::session* s = ls.registry.find(id);
  if (!s) return;
  const login::session gone = *s;
  login_unwatch(st, [&](const login_state::watch& w) { return w.session == id; });
  login_release_control(st, id, false);
  std::string devices;
  if (auto t = ls.tallies.find(id); t != ls.tallies.end()) {
    devices = "; its controllers took " + std::to_string(t->second.taken) + " device(s) and released " +
              std::to_string(t->second.released);
    ls.ended_tallies.push_back(t->second);
    if (ls.ended_tallies.size() > login_state::kKeptTallies) ls.ended_tallies.erase(ls.ended_tallies.begin());
    ls.tallies.erase(t);
  }
  auto ended = ls.registry.remove(id);
  ++ls.released;
  remove_file(dir_of(ls, "sessions") + "/" + id);
  remove_file(dir_of(ls, "sessions") + "/" + id + ".ref");
  remove_scope(ls, gone);
  const uint32_t uid = gone.from.uid;
  spdlog::info("login1: session {} of {} ended ({}){}", id, gone.user_name, why, devices);
  sd_bus_emit_signal(st.bus, kManagerPath, kManager, "SessionRemoved", "so", id.c_str(), session_path(id).c_str());
  if (ended && ended->user_gone) {
    remove_file(dir_of(ls, "users") + "/" + std::to_string(uid));
    login_stop_user_bus(st, uid);
    remove_runtime_dir(ls, uid);
    if (!ls.paths.cgroup_root.empty()) {
      ::rmdir((ls.paths.cgroup_root + "/user.slice/user-" + std::to_string(uid) + ".slice").c_str());
    }
    sd_bus_emit_signal(st.bus, kManagerPath, kManager, "UserRemoved", "uo", uid, user_path(uid).c_str());
  } else {
    write_user_file(ls, uid);
  }
  write_seat_file(ls);
  if (ended && ended->now_active) login_sessions_changed(st, {*ended->now_active});
  pump(st);
}

void login_refresh_seat(bus_state& st) {
  auto& ls = ls_of(st);
  const bool graphical = has_drm_card();
  if (graphical == ls.registry.seat_graphical()) return;
  ls.registry.set_seat_graphical(graphical);
  write_seat_file(ls);
  const char* names[] = {"CanGraphical", nullptr};
  if (st.bus) {
    sd_bus_emit_properties_changed_strv(st.bus, seat_path(login::kSeat0).c_str(), "org.freedesktop.login1.Seat",
                                        const_cast<char**>(names));
  }
}

void login_close(bus_state& st) {
  auto& ls = ls_of(st);
  while (!ls.watches.empty()) forget_watch(st, ls.watches.begin());
  std::vector<std::string> controlled;
  for (const auto& [id, devices] : ls.devices) controlled.push_back(id);
  for (const auto& id : controlled) login_release_control(st, id, false);
  // Session buses go with the actor (the runtime stops, or the system bus went away): a user's next login starts
  // a new one. Their exits are still reaped by the reaper.
  std::vector<uint32_t> users;
  for (const auto& [uid, pid] : ls.session_buses) users.push_back(uid);
  for (uint32_t uid : users) login_stop_user_bus(st, uid);
}

void login_terminate_session(bus_state& st, const std::string& id, const char* why) {
  signal_session(ls_of(st), id, SIGTERM);
  login_end_session(st, id, why);
}

void login_watch(bus_state& st, login_state::watch w) {
  auto& ls = ls_of(st);
  const uint64_t tag = kFirstLoginTag + ls.next_tag++;
  arm(st, tag, ls.watches[tag] = std::move(w));
}

void login_unwatch(bus_state& st, const std::function<bool(const login_state::watch&)>& which) {
  auto& ls = ls_of(st);
  for (auto it = ls.watches.begin(); it != ls.watches.end();) {
    auto next = std::next(it);
    if (which(it->second)) forget_watch(st, it);
    it = next;
  }
}

void login_io(bus_state& st, uint64_t tag) {
  auto& ls = ls_of(st);
  auto it = ls.watches.find(tag);
  if (it == ls.watches.end()) return;
  const auto w = it->second;
  if (w.what == login_state::watch::kind::vt) {
    // The kernel switched VTs (Ctrl-Alt-Fn, chvt, a VT_ACTIVATE of ours): the sessions' Active follows.
    const uint32_t vt = read_active_vt(w.fd);
    if (vt) login_sessions_changed(st, ls.registry.switch_to_vt(vt));
    arm(st, tag, w);
    return;
  }
  if (w.what != login_state::watch::kind::leader) {
    char buf[64];
    const ssize_t n = ::read(w.fd, buf, sizeof buf);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {  // nothing is written there; keep listening
      arm(st, tag, w);
      return;
    }
    if (w.what == login_state::watch::kind::inhibitor) {
      login_inhibitor_released(st, w.inhibitor);
      return;
    }
    login_end_session(st, w.session, "its login ended");
    return;
  }
  login_end_session(st, w.session, "its leader exited");
}

void login_sessions_changed(bus_state& st, const std::vector<std::string>& ids) {
  auto& ls = ls_of(st);
  for (const auto& id : ids) {
    const login::session* s = ls.registry.find(id);
    if (!s) continue;
    write_session_file(ls, id);
    write_user_file(ls, s->from.uid);
    login_follow_activity(st, id);
    const char* names[] = {"Active", "State", "LockedHint", "IdleHint", nullptr};
    sd_bus_emit_properties_changed_strv(st.bus, session_path(id).c_str(), kSessionInterface, const_cast<char**>(names));
  }
  write_seat_file(ls);
  if (!ids.empty()) {
    const char* names[] = {"ActiveSession", nullptr};
    sd_bus_emit_properties_changed_strv(st.bus, seat_path(login::kSeat0).c_str(), "org.freedesktop.login1.Seat",
                                        const_cast<char**>(names));
  }
  pump(st);
}

std::optional<std::string> session_of_pid(const login_state& ls, uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto at = line.rfind("/session-");
    if (at == std::string::npos) continue;
    const auto end = line.find(".scope", at);
    if (end == std::string::npos) continue;
    const std::string id = line.substr(at + 9, end - at - 9);
    if (ls.registry.find(id)) return id;
  }
  if (const auto* s = ls.registry.by_leader(pid)) return s->id;
  return std::nullopt;
}

bool login_kill_valid(const std::string& whom, int32_t signal) {
  return (whom.empty() || whom == "all" || whom == "leader") && signal > 0 && signal < _NSIG;
}

void login_kill(const login_state& ls, const std::string& id, const std::string& whom, int signal) {
  const login::session* s = ls.registry.find(id);
  if (!s) return;
  if (whom == "leader") {
    if (s->from.leader > 1) ::kill(static_cast<pid_t>(s->from.leader), signal);
  } else {
    signal_session(ls, id, signal);
  }
}

void signal_session(const login_state& ls, const std::string& id, int signal) {
  const login::session* s = ls.registry.find(id);
  if (!s) return;
  const std::string scope = scope_dir(ls, *s);
  bool any = false;
  if (!scope.empty()) {
    std::ifstream procs(scope + "/cgroup.procs");
    long pid = 0;
    while (procs >> pid) {
      if (pid > 1) any |= ::kill(static_cast<pid_t>(pid), signal) == 0;
    }
  }
  if (!any && s->from.leader > 1) ::kill(static_cast<pid_t>(s->from.leader), signal);
}

}  // namespace dynamod::dbus
