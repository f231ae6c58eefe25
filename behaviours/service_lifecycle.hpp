// The life of one service incarnation as a pure state machine: events in (dependencies satisfied, process
// spawned, readiness reached, process exited, timers, stop requested, sd_notify fields), actions out
// (spawn, signal, arm a timer, report a state, quit with a reason). actors/service_actor performs the I/O.
//
//   waiting ──deps ok──▶ starting ──ready──▶ running ──stop──▶ stopping ──exit──▶ (quit: shutdown)
//      │                    │ exit/timeout        │ exit                 timeout ▶ SIGKILL
//      ▼ dep failed         ▼                     ▼
//   blocked            (quit: reason)       (quit: reason)          oneshot exit 0 ▶ done (stays)
//   done ──stop, with stop-exec──▶ stopping ──stop-exec exit or stop timeout──▶ (quit: shutdown)
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dynamod::behaviours {

using std::chrono::milliseconds;

enum class lifecycle_state { waiting, blocked, starting, running, stopping, done };

const char* to_string(lifecycle_state s);

// Why the incarnation ends; mapped onto caf::error by the actor (actors/exit_reasons).
struct end_reason {
  enum class code { normal, exited, killed, dumped, start_failed, readiness_timeout, watchdog, oom, shutdown, lost };
  code what = code::normal;
  int value = 0;       // exit status or signal
  std::string detail{};  // start failure, timeout text
};

struct process_end {  // how the main process ended
  enum class how { exited, killed, dumped, unknown } kind = how::exited;
  int code = 0;
};

inline constexpr milliseconds kMaxTimeoutExtension{24LL * 3600 * 1000};  // one EXTEND_TIMEOUT_USEC= at most

struct lifecycle_options {
  bool oneshot = false;            // ready when the process exits 0; then `done`, not restarted
  bool forking = false;            // the started process forks the daemon and exits 0; the daemon is the main pid
  bool readiness_needed = false;   // notify / tcp-port / exec / fd: wait for `on_ready`
  milliseconds start_timeout{30000};
  milliseconds stop_timeout{10000};  // 0: brutal kill (SIGKILL at once)
  int stop_signal = 15;
  bool stop_command = false;       // run stop-exec instead of sending stop_signal
  std::optional<milliseconds> watchdog{};
  bool watchdog_abort_first = true;  // SIGABRT on watchdog expiry (as systemd), SIGKILL after stop timeout
};

struct action {
  enum class kind {
    spawn,          // start the main process
    start_probe,    // begin readiness checks (tcp-port, exec, fd; notify needs nothing)
    find_main_pid,  // forking: the launcher exited 0, look for the daemon (pid file, or its session)
    stop_probe,
    signal,         // value = signal, to the whole service (process group / cgroup)
    run_stop_command,
    arm_timer,      // timer = which, duration
    cancel_timer,
    report,         // state changed (state(), status text)
    quit,           // the incarnation ends with `reason`
  } what;
  int value = 0;
  enum class timer { start, stop, watchdog } which = timer::start;
  milliseconds duration{0};
  end_reason reason{};
  bool operator==(const action& o) const {
    return what == o.what && value == o.value && (what != kind::arm_timer || (which == o.which && duration == o.duration)) &&
           (what != kind::cancel_timer || which == o.which) && (what != kind::quit || reason.what == o.reason.what);
  }
};

using actions = std::vector<action>;

class service_lifecycle {
 public:
  explicit service_lifecycle(lifecycle_options o) : opts_(std::move(o)) {}

  actions on_dependencies_ready();
  actions on_dependency_failed(const std::string& dependency, const std::string& why);
  actions on_spawned();
  // `lack_of_resources`: the runtime ran out of descriptors or memory (spawn_lacks_resources). That is not the
  // service's fault: the incarnation stays `starting` and spawns again after a back-off (500 ms doubling to
  // 30 s, on the start timer), so no restart is counted against its intensity and nothing gives up on it.
  actions on_spawn_failed(const std::string& why, bool lack_of_resources = false);
  actions on_ready();                    // readiness reached (READY=1, port open, check passed, fd written)
  actions on_main_pid_found();           // forking: the daemon is the main process now
  actions on_main_pid_missing(const std::string& why);
  actions on_probe_failed(const std::string& why);  // the readiness check gave up (retries exhausted)
  actions on_exit(process_end end);      // the main process is gone
  // The supervisor terminates us. A done oneshot with stop-exec runs it first (systemd's RemainAfterExit with
  // ExecStop: swapoff, ifdown), bounded by the stop timeout.
  actions on_stop();
  actions on_stop_command_exit();        // the stop-exec helper is gone (or could not be started)
  actions on_timer(action::timer which);
  actions on_watchdog_ping();            // WATCHDOG=1
  // WATCHDOG=trigger: as systemd, act as if the watchdog expired (SIGABRT, SIGKILL after the stop timeout, exit
  // reason `watchdog`), whether or not a watchdog is configured; while starting or running.
  actions on_watchdog_trigger();
  actions on_extend_timeout(milliseconds extra);  // EXTEND_TIMEOUT_USEC=, at most kMaxTimeoutExtension
  actions on_stopping_notice();          // STOPPING=1: the service is stopping by itself
  // The OOM killer struck in the service's cgroup. Like systemd's OOMPolicy=stop: whatever it killed, the
  // service is over; everything left is killed and the incarnation ends with `oom`.
  actions on_oom();
  // The supervisor adopts a process started by a previous runtime; `was_ready` from the state file.
  actions on_adopted(bool was_ready);
  // The previous runtime saw this oneshot complete: nothing to run.
  actions on_adopted_done() { return become(lifecycle_state::done); }

  lifecycle_state state() const { return state_; }
  const std::string& blocked_on() const { return blocked_on_; }
  bool stop_requested() const { return stop_requested_; }

 private:
  actions become(lifecycle_state s, actions more = {});
  actions kill_for(end_reason why);  // stop the process because of `why`, quit with it once gone
  actions begin_stop();

  lifecycle_options opts_;
  lifecycle_state state_ = lifecycle_state::waiting;
  bool stop_requested_ = false;
  bool self_stopping_ = false;  // STOPPING=1 from the service, nothing sent by us
  bool undoing_oneshot_ = false;  // a done oneshot's stop-exec runs; its end is the incarnation's end
  bool launcher_exited_ = false;  // forking: the process we started is gone, the daemon runs on
  std::optional<end_reason> pending_reason_;  // set when we kill the process for a reason of ours
  bool spawn_retry_pending_ = false;  // no process: the start timer spawns again (on_spawn_failed)
  milliseconds spawn_retry_delay_{0};
  std::string blocked_on_;
};

}  // namespace dynamod::behaviours
