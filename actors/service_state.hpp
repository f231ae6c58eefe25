// Internal to the service actor's files (service_actor.cpp: behaviour and lifecycle actions;
// service_spawn.cpp: starting processes; service_cgroup.cpp: the service's cgroup): its state and the
// helpers they share.
#pragma once

#include <caf/all.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/file_io_actor.hpp"
#include "actors/messages.hpp"
#include "actors/service_actor.hpp"
#include "actors/service_process.hpp"
#include "behaviours/service_lifecycle.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod::service {

struct service_state {
  service_args args;
  std::unique_ptr<behaviours::service_lifecycle> lifecycle;
  pid_t pid = 0;
  uint64_t proc_start_time = 0;
  pid_t stop_pid = 0;          // a running stop-exec
  pid_t check_pid = 0;         // the readiness probe's latest exec check: never a main pid (MAINPID=)
  int pidfd = -1;              // a main process that is not our child (adopted in user mode, a MAINPID= grandchild)
  int ready_read_fd = -1;      // fd readiness: the pipe's read end, until start_probe watches it
  int ready_watch = -1;        // fd readiness: the pipe's read end, watched by this actor (no probe actor)
  pid_t launcher_pid = 0;      // forking: the process we started, whose session the daemon lives in
  caf::actor probe;
  uint64_t timer_generation[4] = {0, 0, 0, 0};  // start, stop, watchdog, cgroup drain
  // What the main process and its helpers (stop-exec, check-exec) run with (service_spawn.cpp: process_setup).
  std::shared_ptr<const service_process_setup> setup;
  std::string invocation_id;
  std::string fingerprint;     // of the definition its process was started from (adoption record)
  std::string status_text;
  int status_errno = 0;
  bool ready = false;
  // sd_notify messages and MAINPID= claims refused (notify-access, a pid that is not the service's): counted,
  // and warned about a few times per window (service_actor.cpp: refuse_notify).
  uint64_t notify_refused = 0;
  uint64_t notify_refused_logged = 0;   // the count at the last warning
  uint64_t refusals_in_window = 0;
  std::chrono::steady_clock::time_point last_refusal_log{};  // start of the current window
  bool watching_deps = false;
  std::string last_state;
  std::string detail;
  // The service's cgroup (empty: none) and what its watcher told us.
  std::string cgroup_dir;
  caf::actor cgroup_watcher;
  uint64_t oom_kills_seen = 0;
  std::optional<behaviours::end_reason> draining;  // ended; waiting for the cgroup to empty before quitting
  bool reaping_strays = false;  // the drained cgroup is empty; the reaper is collecting what the drain killed
  static inline const char* name = "service";

  ~service_state() {
    if (ready_read_fd >= 0) ::close(ready_read_fd);
    if (ready_watch >= 0) {
      args.context->loop->forget(ready_watch);
      ::close(ready_watch);
    }
    if (pidfd >= 0) {
      args.context->loop->forget(pidfd);
      ::close(pidfd);
    }
  }
};

using self_ptr = caf::stateful_actor<service_state>*;

inline const service_config& config(self_ptr self) { return *self->state.args.config; }
inline const runtime_context& context(self_ptr self) { return *self->state.args.context; }

// service_actor.cpp
void execute(self_ptr self, const behaviours::actions& todo);
void report(self_ptr self);
// The record goes to the file I/O actor (in order: after the intent the spawn waited for).
void save_adoption_record(self_ptr self);
// Before the spawn: the invocation id without a pid, so that a runtime killed before save_adoption_record
// leaves its successor a way to find the process (by its INVOCATION_ID) instead of starting a second one.
adoption_record adoption_intent(self_ptr self);
// This incarnation's record is void (its process ended or never started): cleared unless a newer one replaced it.
void clear_adoption_record(self_ptr self);
// claimed: named by the service, not spawned by us. `pidfd`: of a process we spawned (handed to the reaper).
void watch_process(self_ptr self, pid_t pid, bool claimed, int pidfd = -1);
void forget_process(self_ptr self, pid_t pid);

// service_notify.cpp
void handle_notify(self_ptr self, const notify_fields& fields, int sender);

// service_spawn.cpp
void spawn_main_process(self_ptr self);
void run_stop_command(self_ptr self);
void look_for_daemon(self_ptr self);  // forking: find the daemon the launcher left
// The setup for this incarnation (built on first use; nullptr with `error` set if it cannot be).
std::shared_ptr<const service_process_setup> process_setup(self_ptr self, std::string& error);

// service_cgroup.cpp
constexpr uint8_t kDrainTimer = 3;  // index into timer_generation
// Creates the cgroup and writes the limits; returns the cgroup.procs fd for the child (or -1 without
// cgroups), or nullopt with `error` set.
std::optional<int> prepare_cgroup(self_ptr self, std::string& error);
// cgroup.procs of the existing cgroup for a child to join (-1: the service has none).
std::optional<int> join_cgroup_fd(self_ptr self, std::string& error);
void watch_cgroup(self_ptr self);          // spawns the watcher once the cgroup exists
void signal_service(self_ptr self, int signo);
bool oom_struck(self_ptr self);            // memory.events says the OOM killer acted since we last looked
// Called when the incarnation ends: kills what is left in the cgroup and returns true if we must wait for
// it to empty (the watcher's `populated false`, or the drain timer) before quitting.
bool drain_cgroup(self_ptr self);
void remove_service_cgroup(self_ptr self);

}  // namespace dynamod::service
