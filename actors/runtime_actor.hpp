// The runtime's top actor: it spawns and links the system actors (PID 1 link, reaper, notify socket,
// dependency tracker, control listener) and the root supervisor, routes signals, and drives the shutdown
// of everything. If the root supervisor gives up, it tells PID 1 and quits.
#pragma once

#include <atomic>

#include <caf/fwd.hpp>

#include <map>
#include <string>

#include "actors/runtime_context.hpp"
#include "runtime/config/supervision_plan.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

// What a previous runtime left of services no longer configured (see stop_orphaned_services).
struct orphan {
  std::string name;
  adoption_record record;
};
struct orphan_scan {
  std::vector<orphan> stopping;        // sent their stop signal; killed if still there after the stop timeout
  std::vector<std::string> released;   // gone: PID 1 may close their log FIFOs
};

struct runtime_args {
  runtime_paths paths;
  bool user_mode = false;
  int init_fd = -1;     // IPC with dynamod-init, or -1
  int control_fd = -1;  // listening control socket, or -1
  int notify_fd = -1;   // bound sd_notify socket, or -1
  event_loop* loop = nullptr;
  journal_forwarder* journal = nullptr;
  console_status* console = nullptr;
  std::string cgroup_base;                      // see runtime_context
  std::string nsinit;
  std::string inaccessible_file;
  long log_group = -1;                          // see runtime_context
  dbus_settings dbus;                           // see runtime_context
  plan_node plan;                               // the supervision tree to build
  std::map<std::string, std::string> disabled;  // services that will not run, and why
  orphan_scan orphans;                          // found by main before the actors run
  std::atomic<bool>* stopped_everything = nullptr;  // set once every service has stopped (main may then tidy up)
};

// Processes recorded by a previous runtime for services that no longer exist are ours to stop (SIGTERM now).
// One whose file is broken now is not gone: it keeps running, unmanaged, until the file is fixed and a reload
// adopts it. Reads the state directory: called by main before the actors run (no actor waits on the disk).
orphan_scan stop_orphaned_services(const runtime_paths& paths, const plan_node& plan,
                                   const std::map<std::string, std::string>& disabled);

caf::actor spawn_runtime(caf::actor_system& sys, runtime_args args);

}  // namespace dynamod
