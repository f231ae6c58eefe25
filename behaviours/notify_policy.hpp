// Who may speak for a service on the notify socket, and which process a service may name as its main process
// (MAINPID=). Pure: the service actor gathers the facts from /proc and its cgroup and acts on the answer. A service
// and everything under it are untrusted, so a MAINPID= that would make the runtime watch or signal a process
// that is not the service's own is refused.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "runtime/config/service_config.hpp"

namespace dynamod::behaviours {

// The notify socket routes a message to a service when its sender is the service's main process or a descendant
// of it; this decides whether that sender may speak for it (systemd's NotifyAccess). `control_pid`: the running
// stop command (0: none).
inline bool notify_sender_allowed(notify_access mode, pid_t sender, pid_t main_pid, pid_t control_pid) {
  if (sender <= 0) return false;
  switch (mode) {
    case notify_access::none: return false;
    case notify_access::main: return sender == main_pid;
    case notify_access::exec: return sender == main_pid || (control_pid > 0 && sender == control_pid);
    case notify_access::all: return true;  // routed here only because it is the service's own
  }
  return false;
}

// Whether `pid` descends from `ancestor` (not counting itself), following `parent_of` (nullopt: unknown, the
// process is gone) at most `max_depth` steps; the walk stops at pid 1 and at `stop_at` (the runtime).
inline bool descends_from(pid_t pid, pid_t ancestor, pid_t stop_at, const std::function<std::optional<pid_t>(pid_t)>& parent_of,
                          int max_depth = 64) {
  if (ancestor <= 1 || pid == ancestor) return false;
  for (int depth = 0; depth < max_depth && pid > 1 && pid != stop_at; ++depth) {
    auto parent = parent_of(pid);
    if (!parent) return false;
    if (*parent == ancestor) return true;
    pid = *parent;
  }
  return false;
}

// What is known about the process a MAINPID= names.
struct main_pid_claim {
  pid_t candidate = 0;
  pid_t current_main = 0;
  pid_t runtime_pid = 0;
  bool alive = false;                      // exists and is not a zombie
  std::optional<bool> in_service_cgroup;   // set when the service has a cgroup: is the candidate a member?
  bool descends_from_main = false;         // without a cgroup: is it a descendant of the current main process?
};

// nullopt: accept; otherwise why it is refused.
inline std::optional<std::string> refuse_main_pid(const main_pid_claim& c) {
  if (c.candidate <= 0) return "not a pid";
  if (c.candidate == 1) return "pid 1 is not the service's";
  if (c.candidate == c.runtime_pid) return "the runtime is not the service's";
  if (!c.alive) return "no such process";
  if (c.in_service_cgroup) {
    if (!*c.in_service_cgroup) return "the process is not in the service's cgroup";
    return std::nullopt;
  }
  if (!c.descends_from_main) return "the process is not a descendant of the service's main process";
  return std::nullopt;
}

}  // namespace dynamod::behaviours
