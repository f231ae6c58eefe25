// What every actor of the runtime may need and nobody owns: fixed at start-up, shared read-only.
#pragma once

#include <caf/actor.hpp>

#include <memory>
#include <string>

namespace dynamod {

class event_loop;
class journal_forwarder;
class console_status;

struct runtime_paths {
  std::string config_dir;     // /etc/dynamod
  std::string state_dir;      // /run/dynamod
  std::string log_dir;        // /var/log/dynamod
  std::string control_socket; // <state_dir>/control.sock
  // Records, restart histories and log FIFOs (runtime/state/volatile_dir): the state dir, or a private tmpfs
  // directory linked from it when the state dir is on a disk. Empty: the state dir.
  std::string volatile_dir;
};

inline const std::string& volatile_state(const runtime_paths& p) { return p.volatile_dir.empty() ? p.state_dir : p.volatile_dir; }
// The adoption records' directory (runtime/state/adoption_record: adoption_store).
inline std::string records_dir(const runtime_paths& p) { return volatile_state(p) + "/services"; }

// Where the D-Bus face lives (dbus/: runtime options; the defaults are systemd's).
struct dbus_settings {
  bool enabled = false;
  std::string system_bus = "unix:path=/run/dbus/system_bus_socket";
  std::string systemd_dir = "/run/systemd";  // the private socket, the system/ gate
  std::string settings_root = "/";           // where hostname1, timedate1 and locale1 find etc/
  std::string user_runtime_dir = "/run/user";  // login1's users' XDG_RUNTIME_DIRs
};

struct runtime_context {
  runtime_paths paths;
  bool user_mode = false;
  std::string cgroup_base;        // /sys/fs/cgroup/dynamod; empty: no cgroup v2 here, services share ours
  std::string nsinit;             // dynamod-nsinit, PID 1 of services' own pid namespaces
  std::string inaccessible_file;  // a mode-000 file, bound over inaccessible-paths that are files
  dbus_settings dbus;
  long log_group = -1;            // members of this gid may read services' logs (--log-group); -1: admins only
  event_loop* loop = nullptr;         // outlives every actor
  journal_forwarder* journal = nullptr;  // copies services' lines to journald (with the D-Bus face); may be null
  console_status* console = nullptr;  // boot status lines
  // Handles are set by the runtime actor while it starts, before any service exists; read-only after.
  caf::actor reaper;                  // process exits
  caf::actor pid1_link;               // may be invalid (not under dynamod-init)
  caf::actor tracker;                 // dependency tracker (boot coordinator)
  caf::actor notify;                  // sd_notify socket (may be invalid if it could not be bound)
  caf::actor runtime;                 // the top actor: service directory, reload
  caf::actor file_io;                 // the state directory's files (actors/file_io_actor)
};

using runtime_context_ptr = std::shared_ptr<const runtime_context>;

}  // namespace dynamod
