// Every message type the runtime's actors exchange, declared once (CAF 0.17: atoms are values, at most
// 10 characters). Who sends what to whom is in ARCHITECTURE.md.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/config/supervision_plan.hpp"

namespace dynamod {

#define DYNAMOD_ATOM(name, text)                           \
  using name##_atom = caf::atom_constant<caf::atom(text)>; \
  inline constexpr name##_atom name##_atom_v = name##_atom::value;

// I/O bridge (event_loop -> actors)
DYNAMOD_ATOM(io_ready, "io_ready")  // uint64_t tag, uint32_t epoll events
DYNAMOD_ATOM(signal, "signal")      // int signo

// Processes
DYNAMOD_ATOM(watch_pid, "watch_pid")     // reaper / notify socket: int pid, caf::actor owner
DYNAMOD_ATOM(unwatch_pid, "unwatchpid")  // notify socket: int pid
DYNAMOD_ATOM(child_exit, "chld_exit")    // int pid, int wait_status
DYNAMOD_ATOM(sigchld, "sigchld")         // reaper: reap what has exited

// Lifecycle
DYNAMOD_ATOM(start, "start")
DYNAMOD_ATOM(stop, "stop")
DYNAMOD_ATOM(release, "release")  // supervisor -> service: reload moved it; leave, the process runs on (adopted)
DYNAMOD_ATOM(restart, "restart")
DYNAMOD_ATOM(reset_failed, "reset_fail")  // std::string service: a failed one becomes stopped (systemctl reset-failed)
DYNAMOD_ATOM(ready, "ready")             // readiness probe -> service; runtime -> pid1 link
DYNAMOD_ATOM(probe_fail, "probe_fail")   // readiness probe -> service: std::string why
DYNAMOD_ATOM(check_pid, "check_pid")     // readiness probe -> service: int pid of the exec check now running
DYNAMOD_ATOM(timeout, "timeout")         // uint8_t which, uint64_t generation (timers are cancelled by generation)
DYNAMOD_ATOM(delay_done, "delay_done")
DYNAMOD_ATOM(stopped, "stopped")
DYNAMOD_ATOM(stop_all, "stop_all")       // stop every service in order, reply stopped
DYNAMOD_ATOM(shutdown, "shutdown")       // uint8_t power_mode: ask PID 1 to shut the system down
DYNAMOD_ATOM(notify, "notify")           // notify socket -> service: notify_fields, int sender pid
DYNAMOD_ATOM(tick, "tick")
DYNAMOD_ATOM(reap_now, "reapnow")     // -> reaper: scan for exited children now; answers true

// cgroups (cgroup watcher -> service)
DYNAMOD_ATOM(populated, "populated")  // bool: some process is (still) in the service's cgroup
DYNAMOD_ATOM(oom, "oom")              // uint64_t: memory.events oom_kill went up to this
DYNAMOD_ATOM(cg_stats, "cg_stats")    // -> std::string JSON: memory/pids current and limits, OOM kills

// Dependencies
DYNAMOD_ATOM(watch_deps, "watch_deps")    // service -> tracker: std::string name, std::vector<std::string>
                                          // rolled_back_by (supervisor_logic); replies come as deps
DYNAMOD_ATOM(unwatch_deps, "unwatchdep")  // service -> tracker: std::string name
DYNAMOD_ATOM(deps, "deps")                // tracker -> service: uint8_t verdict, std::string on, std::string why
DYNAMOD_ATOM(pending, "pending")  // supervisor -> tracker: std::vector<std::string> services about to get new
                                  // incarnations (a batch of starts): forget their previous ones' reports

// PID 1 link
DYNAMOD_ATOM(track, "track")          // int pid: tell PID 1 the pid is a service process
DYNAMOD_ATOM(untrack, "untrack")
DYNAMOD_ATOM(reaper, "reaper")        // caf::actor: where the link forwards orphan exits
DYNAMOD_ATOM(give_up, "give_up")      // std::string: the root supervisor gave up
DYNAMOD_ATOM(hold_fifo, "hold_fifo")  // int fd (a copy, the link closes it): PID 1 keeps the log FIFO open across runtime restarts
DYNAMOD_ATOM(drop_fifo, "drop_fifo")  // std::string path: PID 1 closes its descriptor of that FIFO

// Queries (control socket)
DYNAMOD_ATOM(list, "list")
DYNAMOD_ATOM(status, "status")
DYNAMOD_ATOM(tree, "tree")
DYNAMOD_ATOM(log_tail, "log_tail")    // log sink: uint32_t lines -> std::vector<std::string>
DYNAMOD_ATOM(log_sink, "log_sink")    // supervisor: std::string service -> caf::actor (its log sink)
DYNAMOD_ATOM(log_follow, "log_follow")  // log sink: caf::actor subscriber, uint32_t n -> the last n lines;
                                        // every later line comes as log_line
DYNAMOD_ATOM(log_remove, "log_remove")  // log sink: the service is gone; let PID 1 drop its FIFOs, then stop
DYNAMOD_ATOM(log_retry, "log_retry")  // log sink -> itself: try the log file again for the lines kept in memory
DYNAMOD_ATOM(log_line, "log_line")    // log sink -> subscriber: std::vector<std::string> lines (one drain)
DYNAMOD_ATOM(child_of, "child_of")    // supervisor -> runtime: std::string service, caf::actor supervisor
DYNAMOD_ATOM(reload, "reload")        // runtime / supervisors: apply a new configuration
DYNAMOD_ATOM(check, "check")          // runtime: validate the configuration directory

// File I/O actor (the state directory; see actors/file_io_actor.hpp)
DYNAMOD_ATOM(record_save, "rec_save")
DYNAMOD_ATOM(record_clear, "rec_clear")
DYNAMOD_ATOM(spawn_files, "spawn_file")
DYNAMOD_ATOM(sink_files, "sink_files")
DYNAMOD_ATOM(history_save, "hist_save")
DYNAMOD_ATOM(history_clear, "hist_clear")
DYNAMOD_ATOM(adopt_scan, "adopt_scan")

// D-Bus (dbus/: see dbus/bus_actor.hpp)
DYNAMOD_ATOM(bus_pump, "bus_pump")      // bus actor -> itself: go on dispatching (it yields after a batch)
DYNAMOD_ATOM(bus_timer, "bus_timer")    // bus actor -> itself: uint64_t generation; sd-bus' own timeout is due
DYNAMOD_ATOM(inhibit_due, "inhib_due")  // login1 bus actor -> itself: uint64_t generation; a shutdown's delay ran out
DYNAMOD_ATOM(job_start, "job_start")    // -> job runner: std::string unit, std::string type -> uint32_t id
DYNAMOD_ATOM(job_event, "job_event")    // job runner -> bus actors: bool removed, uint32_t id, std::string unit,
                                        // std::string type or result
DYNAMOD_ATOM(job_list, "job_list")      // -> job runner: std::vector<std::string> (id, unit, type, ... flat)
DYNAMOD_ATOM(job_cancel, "job_cancel")  // -> job runner: uint32_t id -> bool
DYNAMOD_ATOM(subscribe, "subscribe")    // bus actor -> job runner: caf::actor (monitored) gets every job_event
DYNAMOD_ATOM(unit_event, "unit_event")  // job runner -> bus actors: std::string unit whose state changed
DYNAMOD_ATOM(peer, "peer")              // private listener -> supervisor: int fd, uint32_t uid of a new client

#undef DYNAMOD_ATOM

// KEY=VALUE pairs of one sd_notify datagram, in order.
using notify_fields = std::vector<std::pair<std::string, std::string>>;

// A service incarnation tells its supervisor and the dependency tracker about each state change, so the
// facts outlive the incarnation (OTP keeps them in the child spec, not in the child).
struct service_report {
  std::string name;
  std::string state;   // waiting, starting, running, stopping, done, failed, stopped
  int32_t pid = 0;
  std::string detail;  // why: exit reason, blocking dependency, readiness being waited for
  std::string status_text;  // STATUS= from sd_notify
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_report& x) {
  return f(caf::meta::type_name("service_report"), x.name, x.state, x.pid, x.detail, x.status_text);
}

}  // namespace dynamod

// Local-only payloads: configuration handed from the runtime to its supervisors and tracker (reload).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynamod::plan_node)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<std::shared_ptr<const dynamod::service_config>>)
