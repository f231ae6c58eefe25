// org.freedesktop.login1's live state, kept by its connection actor (bus_role::login1): the registry (pure,
// dbus/login_registry) and what it stands for on the system: the session files sd-login reads, each session's
// reference FIFO and leader pidfd (watched: either one ending ends the session), the users' runtime directories
// and the session scopes' cgroups. dbus/login_effects.cpp carries the changes out; dbus/login1_*.cpp are the objects.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dbus/login_devices.hpp"
#include "dbus/login_inhibitors.hpp"
#include "dbus/login_registry.hpp"

namespace dynamod::dbus {

struct bus_state;

struct login_paths {
  std::string systemd_dir;       // /run/systemd: sessions/, users/, seats/
  std::string user_runtime_dir;  // /run/user
  std::string cgroup_root;       // /sys/fs/cgroup ("" without cgroup v2: no session scopes)
  bool console = true;           // the machine's VTs are ours to switch (not in user mode, where they are the host's)
};

struct login_state {
  login_paths paths;
  login::login_registry registry;
  std::map<std::string, login::session_devices> devices;  // by session id
  std::map<std::string, std::map<login::device_id, int>> device_fds;  // the descriptors handed out, by session
  std::map<std::string, std::string> controller_watch;  // session id -> controller whose disconnect is watched
  uint32_t current_uid = 0;    // the user the lookup resolved (User objects)
  std::string current_object;  // the session id the object lookup (sd-bus find) resolved for the call in hand
  // What the event loop watches for each session (tags from kFirstLoginTag on; the bus fd is tag 0).
  struct watch {
    enum class kind { fifo, leader, inhibitor, vt } what = kind::fifo;  // vt: /sys/class/tty/tty0/active
    int fd = -1;
    std::string session;
    uint32_t inhibitor = 0;  // kind::inhibitor: whose FIFO
  };
  std::map<uint64_t, watch> watches;
  uint64_t next_tag = 0;
  uint64_t created = 0, released = 0;
  // What each session's controllers took and gave back (TakeDevice / ReleaseDevice); kept for the last sessions
  // that ended, so a test (and dynamodctl tree) can see that a compositor released what it took.
  struct device_tally {
    std::string session;
    uint64_t taken = 0, released = 0;
  };
  std::map<std::string, device_tally> tallies;
  std::vector<device_tally> ended_tallies;  // the newest last, at most kKeptTallies
  static constexpr size_t kKeptTallies = 16;
  std::map<uint32_t, pid_t> session_buses;  // uid -> its session bus daemon (dbus/login_user_bus)
  uint32_t simulated_vt = 1;  // the foreground VT in user mode (paths.console false): what SwitchTo changes
  login::inhibitor_registry inhibitors;
  // A power-off, reboot or halt that delay inhibitors hold back (a protocol::power_mode): carried out when the
  // last one lets go, or after kInhibitDelayMaxUsec.
  std::optional<uint8_t> pending_shutdown;
  uint64_t shutdown_generation = 0;
  bool preparing_for_shutdown = false;
};

// The VT in the foreground (/sys/class/tty/tty0/active; the simulated one in user mode), 0 if unknown.
uint32_t foreground_vt(const login_state& ls);

inline constexpr uint64_t kFirstLoginTag = 1000;

// The objects' paths: /org/freedesktop/login1/session/<escaped id>, /user/_<uid>, /seat/<escaped id>.
std::string session_path(const std::string& id);
std::string user_path(uint32_t uid);
std::string seat_path(const std::string& seat);

// At start: the directories sd-login and pam_systemd look for, seat0's file, and the sessions a previous login1
// left (restored when their leader still runs, removed otherwise).
void login_start(bus_state& st);
// CreateSession's effects for a session the registry just made: its files, its user's runtime directory (first
// session), the leader moved into its scope, the FIFO whose write end is returned (-1 if it could not be made).
int login_session_created(bus_state& st, const std::string& id, bool new_user);
// The session ends (released, its FIFO closed, its leader gone, terminated): files, watches, devices, and with
// its user's last session the runtime directory; signals SessionRemoved (and UserRemoved).
void login_end_session(bus_state& st, const std::string& id, const char* why);
// Releases every device of the session (descriptors closed, DRM master dropped) and its controller.
void login_release_control(bus_state& st, const std::string& id, bool announce);
// The session became active or stopped being so: its controller's devices are resumed or paused.
void login_follow_activity(bus_state& st, const std::string& id);
// The connection actor ends: its watches and descriptors are closed (its successor restores from the files; a
// compositor's devices are revoked with them, as when logind restarts).
void login_close(bus_state& st);
// seat0 can take a graphical session once a DRM card exists (udev may load its driver after login1 started):
// looked at again at each login and each TakeControl; the seat file and CanGraphical follow.
void login_refresh_seat(bus_state& st);
// The user's session bus (dbus-daemon --session on /run/user/UID/bus, socket-activated), started at a login when
// the user has none, stopped with their last session; login_child_exit hears of its end (from the reaper).
void login_start_user_bus(bus_state& st, const login::user& u);
void login_stop_user_bus(bus_state& st, uint32_t uid);
void login_child_exit(bus_state& st, int pid, int status);
// A watched fd turned readable or hung up.
void login_io(bus_state& st, uint64_t tag);
// Writes dir/name for sd-login's readers: world-readable, under a hidden name and renamed into place.
void login_write_file(const std::string& dir, const std::string& name, const std::string& text);
// Watches `w.fd` (closed with the watch) for the login1 actor: its readiness comes back to login_io.
void login_watch(bus_state& st, login_state::watch w);
// Forgets (and closes) the watches `which` picks.
void login_unwatch(bus_state& st, const std::function<bool(const login_state::watch&)>& which);

// Inhibit (dbus/login_inhibitor_effects): keeps inhibitor `id` of the registry in /run/systemd/inhibit/<id> and
// watches the read end of its FIFO <id>.ref; returns the write end for the caller (-1 if it could not be made).
int login_inhibitor_taken(bus_state& st, uint32_t id);
// Its FIFO hung up (the holder closed every copy): it is forgotten, and a shutdown it held back goes on once no
// other delay inhibitor holds it.
void login_inhibitor_released(bus_state& st, uint32_t id);
// At start: the inhibitors a previous login1 left, kept while their FIFO has a writer.
void login_restore_inhibitors(bus_state& st);
// A power-off, reboot or halt that passed decide_shutdown: PrepareForShutdown(true), then the runtime's shutdown,
// at once or when the delay inhibitors let go (at most kInhibitDelayMaxUsec).
void login_shutdown(bus_state& st, uint8_t mode, bool delayed);
void login_shutdown_due(bus_state& st, uint64_t generation);
// Rewrites the files of the sessions in `ids`, their users' and seat0's (after Active, Locked or Idle changed),
// and emits PropertiesChanged for Active and State on the sessions.
void login_sessions_changed(bus_state& st, const std::vector<std::string>& ids);
// The session a process belongs to: by /proc/PID/cgroup's session-<id>.scope, else the session it leads.
std::optional<std::string> session_of_pid(const login_state& ls, uint32_t pid);
// Sends `signal` to every process of the session (its scope's cgroup, else its leader).
void signal_session(const login_state& ls, const std::string& id, int signal);
// Kill (Manager.KillSession, Session.Kill): `whom` is "all" (or "") for every process of the session, "leader"
// for its leader alone; login_kill_valid checks that and the signal.
bool login_kill_valid(const std::string& whom, int32_t signal);
void login_kill(const login_state& ls, const std::string& id, const std::string& whom, int signal);
// Terminate (of a session, its user or the seat): SIGTERM to its processes, and the session ends.
void login_terminate_session(bus_state& st, const std::string& id, const char* why);

int add_login1_manager(bus_state& st);
int add_login1_objects(bus_state& st);  // sessions; with add_login1_users_and_seats
int add_login1_users_and_seats(bus_state& st);

}  // namespace dynamod::dbus
