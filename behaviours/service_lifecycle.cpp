#include "behaviours/service_lifecycle.hpp"

#include <algorithm>
#include <utility>

namespace dynamod::behaviours {

const char* to_string(lifecycle_state s) {
  switch (s) {
    case lifecycle_state::waiting: return "waiting";
    case lifecycle_state::blocked: return "failed";
    case lifecycle_state::starting: return "starting";
    case lifecycle_state::running: return "running";
    case lifecycle_state::stopping: return "stopping";
    case lifecycle_state::done: return "done";
  }
  return "?";
}

namespace {
action arm(action::timer which, milliseconds d) {
  action a{action::kind::arm_timer};
  a.which = which;
  a.duration = d;
  return a;
}
action cancel(action::timer which) {
  action a{action::kind::cancel_timer};
  a.which = which;
  return a;
}
action signal(int sig) {
  action a{action::kind::signal};
  a.value = sig;
  return a;
}
action quit(end_reason r) {
  action a{action::kind::quit};
  a.reason = std::move(r);
  return a;
}
}  // namespace

actions service_lifecycle::become(lifecycle_state s, actions more) {
  state_ = s;
  more.push_back(action{action::kind::report});
  return more;
}

actions service_lifecycle::on_dependencies_ready() {
  if (state_ != lifecycle_state::waiting && state_ != lifecycle_state::blocked) return {};
  blocked_on_.clear();
  if (stop_requested_) return {};
  state_ = lifecycle_state::starting;
  return {action{action::kind::spawn}};
}

actions service_lifecycle::on_dependency_failed(const std::string& dependency, const std::string& why) {
  if (state_ != lifecycle_state::waiting && state_ != lifecycle_state::blocked) return {};
  const std::string before = std::exchange(blocked_on_, dependency + (why.empty() ? "" : ": " + why));
  // Not an exit: the incarnation waits, blocked, until the dependency recovers (no restart churn). A new reason
  // (the requirement was given up on, say) is reported again.
  if (state_ == lifecycle_state::blocked) {
    return blocked_on_ == before ? actions{} : actions{action{action::kind::report}};
  }
  return become(lifecycle_state::blocked);
}

actions service_lifecycle::on_spawned() {
  if (state_ != lifecycle_state::starting) return {};
  if (opts_.oneshot || opts_.readiness_needed || opts_.forking) {
    actions a;
    if (opts_.readiness_needed) a.push_back(action{action::kind::start_probe});
    if (opts_.start_timeout.count() > 0) a.push_back(arm(action::timer::start, opts_.start_timeout));
    return become(lifecycle_state::starting, std::move(a));
  }
  actions a;
  if (opts_.watchdog) a.push_back(arm(action::timer::watchdog, *opts_.watchdog));
  return become(lifecycle_state::running, std::move(a));
}

actions service_lifecycle::on_spawn_failed(const std::string& why, bool lack_of_resources) {
  if (!lack_of_resources || state_ != lifecycle_state::starting || stop_requested_) {
    return {quit({end_reason::code::start_failed, 0, why})};
  }
  constexpr milliseconds kFirst{500}, kMax{30000};
  spawn_retry_delay_ = spawn_retry_delay_.count() == 0 ? kFirst : std::min(kMax, spawn_retry_delay_ * 2);
  spawn_retry_pending_ = true;
  return {arm(action::timer::start, spawn_retry_delay_)};
}

actions service_lifecycle::on_ready() {
  if (state_ != lifecycle_state::starting || opts_.oneshot) return {};
  actions a{cancel(action::timer::start), action{action::kind::stop_probe}};
  if (opts_.watchdog) a.push_back(arm(action::timer::watchdog, *opts_.watchdog));
  return become(lifecycle_state::running, std::move(a));
}

actions service_lifecycle::on_main_pid_found() {
  if (state_ != lifecycle_state::starting) return {};
  if (opts_.readiness_needed) return {};  // the daemon still has to say it is ready
  actions a{cancel(action::timer::start)};
  if (opts_.watchdog) a.push_back(arm(action::timer::watchdog, *opts_.watchdog));
  return become(lifecycle_state::running, std::move(a));
}

actions service_lifecycle::on_main_pid_missing(const std::string& why) {
  if (state_ != lifecycle_state::starting) return {};
  // Nothing left to stop: the start failed as it stands.
  return {cancel(action::timer::start), action{action::kind::stop_probe}, quit({end_reason::code::start_failed, 0, why})};
}

actions service_lifecycle::on_probe_failed(const std::string& why) {
  if (state_ != lifecycle_state::starting) return {};
  return kill_for({end_reason::code::start_failed, 0, why});
}

actions service_lifecycle::kill_for(end_reason why) {
  pending_reason_ = std::move(why);
  state_ = lifecycle_state::stopping;
  actions a{cancel(action::timer::start), cancel(action::timer::watchdog), action{action::kind::stop_probe}};
  if (opts_.stop_timeout.count() == 0) {
    a.push_back(signal(9));
  } else {
    a.push_back(signal(pending_reason_->what == end_reason::code::watchdog && opts_.watchdog_abort_first ? 6
                                                                                                      : opts_.stop_signal));
    a.push_back(arm(action::timer::stop, opts_.stop_timeout));
  }
  a.push_back(action{action::kind::report});
  return a;
}

actions service_lifecycle::begin_stop() {
  state_ = lifecycle_state::stopping;
  actions a{cancel(action::timer::start), cancel(action::timer::watchdog), action{action::kind::stop_probe}};
  if (opts_.stop_timeout.count() == 0) {
    a.push_back(signal(9));  // OTP brutal_kill
  } else {
    a.push_back(opts_.stop_command ? action{action::kind::run_stop_command} : signal(opts_.stop_signal));
    a.push_back(arm(action::timer::stop, opts_.stop_timeout));
  }
  a.push_back(action{action::kind::report});
  return a;
}

actions service_lifecycle::on_stop() {
  stop_requested_ = true;
  if (spawn_retry_pending_) {
    spawn_retry_pending_ = false;  // no process to stop
    state_ = lifecycle_state::stopping;
    return {cancel(action::timer::start), quit({end_reason::code::shutdown})};
  }
  switch (state_) {
    case lifecycle_state::done:
      if (opts_.oneshot && opts_.stop_command && opts_.stop_timeout.count() > 0) {
        state_ = lifecycle_state::stopping;
        undoing_oneshot_ = true;
        return {action{action::kind::run_stop_command}, arm(action::timer::stop, opts_.stop_timeout),
                action{action::kind::report}};
      }
      return {quit({end_reason::code::shutdown})};
    case lifecycle_state::waiting:
    case lifecycle_state::blocked: return {quit({end_reason::code::shutdown})};
    case lifecycle_state::starting:
    case lifecycle_state::running: return begin_stop();
    case lifecycle_state::stopping:
      if (self_stopping_) {
        // It announced STOPPING=1 but nobody is making sure it ends: do the usual stop.
        self_stopping_ = false;
        return begin_stop();
      }
      // Already stopping for a reason of ours (timeout, watchdog): the stop request decides the reason now.
      pending_reason_.reset();
      return {};
  }
  return {};
}

actions service_lifecycle::on_exit(process_end end) {
  const bool clean_exit = end.kind == process_end::how::exited && end.code == 0;
  if (opts_.forking && state_ == lifecycle_state::starting && !launcher_exited_ && clean_exit && !stop_requested_ &&
      !pending_reason_) {
    // The launcher did its job; the start timeout keeps running until the daemon is found.
    launcher_exited_ = true;
    return {action{action::kind::find_main_pid}};
  }
  actions a{cancel(action::timer::start), cancel(action::timer::stop), cancel(action::timer::watchdog),
            action{action::kind::stop_probe}};
  // Stopped by us: the reason is ours. (A service that said STOPPING=1 and exits is an ordinary exit.)
  if (stop_requested_) {
    a.push_back(quit({end_reason::code::shutdown}));
    return a;
  }
  if (pending_reason_) {
    a.push_back(quit(*pending_reason_));
    return a;
  }
  const bool clean = end.kind == process_end::how::exited && end.code == 0;
  if (opts_.oneshot && state_ == lifecycle_state::starting && clean) {
    // A oneshot is ready when it exits 0, and then it is done: nothing to restart.
    state_ = lifecycle_state::done;
    a.push_back(action{action::kind::report});
    return a;
  }
  switch (end.kind) {
    case process_end::how::exited:
      a.push_back(quit(clean ? end_reason{end_reason::code::normal} : end_reason{end_reason::code::exited, end.code}));
      break;
    case process_end::how::killed: a.push_back(quit({end_reason::code::killed, end.code})); break;
    case process_end::how::dumped: a.push_back(quit({end_reason::code::dumped, end.code})); break;
    case process_end::how::unknown: a.push_back(quit({end_reason::code::lost, 0, "exit status unknown"})); break;
  }
  return a;
}

actions service_lifecycle::on_stop_command_exit() {
  if (!undoing_oneshot_ || state_ != lifecycle_state::stopping) return {};
  undoing_oneshot_ = false;
  return {cancel(action::timer::stop), quit({end_reason::code::shutdown})};
}

actions service_lifecycle::on_timer(action::timer which) {
  switch (which) {
    case action::timer::start:
      if (state_ != lifecycle_state::starting) return {};
      if (spawn_retry_pending_) {
        spawn_retry_pending_ = false;
        return {action{action::kind::spawn}};
      }
      if (launcher_exited_) return on_main_pid_missing("the daemon did not appear within the start timeout");
      return kill_for({end_reason::code::readiness_timeout, 0,
                       "not ready after " + std::to_string(opts_.start_timeout.count()) + "ms"});
    case action::timer::watchdog:
      if (state_ != lifecycle_state::running) return {};
      // Armed only with a watchdog; without one this is not an expiry (WATCHDOG=trigger has its own event).
      if (!opts_.watchdog) return {};
      return kill_for({end_reason::code::watchdog, 0,
                       "no WATCHDOG=1 within " + std::to_string(opts_.watchdog->count()) + "ms"});
    case action::timer::stop:
      if (state_ != lifecycle_state::stopping) return {};
      // No main process to kill: the incarnation ends, and the cgroup drain ends the stop command with it.
      if (undoing_oneshot_) return on_stop_command_exit();
      return {signal(9)};
  }
  return {};
}

actions service_lifecycle::on_watchdog_ping() {
  if (state_ != lifecycle_state::running || !opts_.watchdog) return {};
  return {arm(action::timer::watchdog, *opts_.watchdog)};
}

actions service_lifecycle::on_watchdog_trigger() {
  if (state_ != lifecycle_state::running && state_ != lifecycle_state::starting) return {};
  return kill_for({end_reason::code::watchdog, 0, "WATCHDOG=trigger"});
}

actions service_lifecycle::on_extend_timeout(milliseconds extra) {
  // The service's number: bounded, so a huge one cannot overflow the timer's clock arithmetic.
  extra = std::clamp(extra, milliseconds{0}, kMaxTimeoutExtension);
  if (state_ == lifecycle_state::starting) return {arm(action::timer::start, extra)};
  if (state_ == lifecycle_state::stopping) return {arm(action::timer::stop, extra)};
  return {};
}

actions service_lifecycle::on_oom() {
  if (state_ != lifecycle_state::starting && state_ != lifecycle_state::running && state_ != lifecycle_state::stopping) {
    return {};
  }
  if (stop_requested_) return {};  // being stopped anyway: the stop is the reason
  if (pending_reason_ && pending_reason_->what == end_reason::code::oom) return {};
  pending_reason_ = end_reason{end_reason::code::oom, 0, {}};
  state_ = lifecycle_state::stopping;
  return {cancel(action::timer::start), cancel(action::timer::watchdog), action{action::kind::stop_probe}, signal(9),
          action{action::kind::report}};
}

actions service_lifecycle::on_stopping_notice() {
  if (state_ != lifecycle_state::running && state_ != lifecycle_state::starting) return {};
  state_ = lifecycle_state::stopping;
  self_stopping_ = true;
  return {cancel(action::timer::watchdog), action{action::kind::report}};
}

actions service_lifecycle::on_adopted(bool was_ready) {
  if (!was_ready && (opts_.readiness_needed || opts_.oneshot)) {
    state_ = lifecycle_state::starting;
    actions a;
    if (opts_.readiness_needed) a.push_back(action{action::kind::start_probe});
    a.push_back(arm(action::timer::start, opts_.start_timeout));
    return become(lifecycle_state::starting, std::move(a));
  }
  actions a;
  if (opts_.watchdog) a.push_back(arm(action::timer::watchdog, *opts_.watchdog));
  return become(lifecycle_state::running, std::move(a));
}

}  // namespace dynamod::behaviours
