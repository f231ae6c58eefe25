#include "actors/service_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "actors/exit_reasons.hpp"
#include "actors/json_text.hpp"
#include "actors/readiness_probe_actor.hpp"
#include "actors/service_state.hpp"
#include "runtime/console_status.hpp"
#include "runtime/process/wait_status.hpp"

namespace dynamod::service {

using behaviours::action;
using behaviours::actions;
using behaviours::end_reason;
using behaviours::lifecycle_state;
using behaviours::process_end;

namespace {

behaviours::lifecycle_options lifecycle_options_for(const service_config& c) {
  behaviours::lifecycle_options o;
  o.oneshot = c.type == service_type::oneshot;
  o.forking = c.type == service_type::forking;
  o.readiness_needed = c.readiness != readiness_type::none;
  o.start_timeout = c.start_timeout;
  o.stop_timeout = c.stop_timeout;
  o.stop_signal = c.stop_signal;
  o.stop_command = !c.stop_exec.empty();
  o.watchdog = c.watchdog;
  return o;
}

adoption_record record_of(self_ptr self) {
  auto& st = self->state;
  adoption_record r;
  r.invocation_id = st.invocation_id;
  r.status_text = st.status_text;
  r.fingerprint = st.fingerprint;
  r.cgroup_dir = st.cgroup_dir;
  return r;
}

}  // namespace

void save_adoption_record(self_ptr self) {
  auto& st = self->state;
  if (st.pid <= 0) return;
  adoption_record r = record_of(self);
  r.pid = st.pid;
  r.start_time = st.proc_start_time;
  r.ready = st.ready;
  self->send(context(self).file_io, record_save_atom_v, config(self).name, std::move(r));
}

adoption_record adoption_intent(self_ptr self) {
  adoption_record r = record_of(self);
  r.intent = true;
  return r;
}

void clear_adoption_record(self_ptr self) {
  self->send(context(self).file_io, record_clear_atom_v, config(self).name, self->state.invocation_id);
}

void report(self_ptr self) {
  auto& st = self->state;
  std::string state = behaviours::to_string(st.lifecycle->state());
  std::string detail = st.detail;
  if (st.lifecycle->state() == lifecycle_state::blocked) detail = "dependency failed: " + st.lifecycle->blocked_on();
  if (st.lifecycle->state() == lifecycle_state::starting && st.pid > 0) detail = describe_readiness(config(self));
  service_report r{config(self).name, state, static_cast<int32_t>(st.pid), detail, st.status_text};
  self->send(st.args.supervisor, r);
  if (context(self).tracker) {
    // Blocked, it shows as failed, but it has not exited: no group rollback will follow, so the tracker must not
    // hold an `after` sibling back for it (it still blocks whoever requires it).
    service_report for_tracker = r;
    if (st.lifecycle->state() == lifecycle_state::blocked) for_tracker.state = "blocked";
    self->send(context(self).tracker, std::move(for_tracker));
  }
  if (state == st.last_state) return;
  // Console lines for the transitions a person booting the machine wants to see.
  if (st.lifecycle->state() == lifecycle_state::running || st.lifecycle->state() == lifecycle_state::done) {
    if (st.last_state != "stopping") context(self).console->ok((st.lifecycle->state() == lifecycle_state::done ? "Finished " : "Started ") + config(self).name + ".");
  } else if (st.lifecycle->state() == lifecycle_state::blocked) {
    context(self).console->depend("Dependency failed for " + config(self).name + ": " + st.lifecycle->blocked_on() + ".");
  }
  st.last_state = state;
}

void watch_process(self_ptr self, pid_t pid, bool claimed, int pidfd) {
  auto me = caf::actor_cast<caf::actor>(self);
  // A claimed pid (MAINPID=, a pid file, a daemon found in the session) must not take over another owner's entry.
  if (pidfd >= 0) {
    self->send(context(self).reaper, watch_pid_atom_v, static_cast<int>(pid), pidfd, me);
  } else {
    self->send(context(self).reaper, watch_pid_atom_v, static_cast<int>(pid), me, claimed);
  }
  if (context(self).notify) self->send(context(self).notify, watch_pid_atom_v, static_cast<int>(pid), me, claimed);
}

void forget_process(self_ptr self, pid_t pid) {
  if (context(self).notify && pid > 0) self->send(context(self).notify, unwatch_pid_atom_v, static_cast<int>(pid));
}

namespace {

constexpr uint64_t kPidfdTag = 1, kReadyFdTag = 2;

// How the exit of an adopted process will be known; false if it has ended already. Our child reports through
// the reaper, PID 1's through PID 1; any other (the previous runtime's orphan, inherited by an ancestor) only
// through a pidfd, opened before its identity is checked again: between the decision to adopt and now, it may
// have ended and been reaped by its new parent (the pid then names nothing, or a newer process).
bool watch_adopted_exit(self_ptr self, const adoption_record& a) {
  auto& st = self->state;
  auto proc = read_proc_status(a.pid);
  if (proc && (proc->parent == ::getpid() || (context(self).pid1_link && proc->parent == 1))) return true;
  st.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, a.pid, 0));
  if (st.pidfd < 0) return false;
  proc = read_proc_status(a.pid);
  if (!proc || proc->start_time != a.start_time) {
    ::close(st.pidfd);
    st.pidfd = -1;
    return false;
  }
  // A zombie's pidfd is readable at once: its exit comes through the watch like any other.
  context(self).loop->watch(st.pidfd, EPOLLIN, caf::actor_cast<caf::actor>(self), kPidfdTag);
  return true;
}

void stop_ready_watch(self_ptr self) {
  auto& st = self->state;
  if (st.ready_watch < 0) return;
  context(self).loop->forget(st.ready_watch);
  ::close(st.ready_watch);
  st.ready_watch = -1;
}

// fd readiness (s6 notification-fd, dinit pipefd): a newline on the pipe means ready. Watched by the incarnation
// itself: a probe actor per service would cost a spawn, a link and two messages per start.
void on_ready_fd(self_ptr self) {
  auto& st = self->state;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(st.ready_watch, buf, sizeof buf);
    if (n > 0) {
      if (std::memchr(buf, '\n', static_cast<size_t>(n)) == nullptr) continue;
      stop_ready_watch(self);
      execute(self, st.lifecycle->on_ready());
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    stop_ready_watch(self);  // closed without a newline: never ready; the start timeout decides
    return;
  }
  context(self).loop->watch(st.ready_watch, EPOLLIN, caf::actor_cast<caf::actor>(self), kReadyFdTag);
}

void start_probe(self_ptr self) {
  auto& st = self->state;
  const auto& c = config(self);
  if (c.readiness == readiness_type::notify || c.readiness == readiness_type::none) return;
  if (c.readiness == readiness_type::fd) {
    st.ready_watch = std::exchange(st.ready_read_fd, -1);
    if (st.ready_watch >= 0) {
      context(self).loop->watch(st.ready_watch, EPOLLIN, caf::actor_cast<caf::actor>(self), kReadyFdTag);
    }
    return;
  }
  std::shared_ptr<const service_process_setup> setup;
  if (c.readiness == readiness_type::exec) {
    std::string error;
    setup = process_setup(self, error);
    if (!setup) spdlog::warn("{}: readiness check cannot run: {}", c.name, error);  // the probe reports it failed
  }
  probe_args a{st.args.config, std::move(setup), std::exchange(st.ready_read_fd, -1), st.args.context};
  st.probe = spawn_readiness_probe(self, std::move(a));
}

void stop_probe(self_ptr self) {
  auto& st = self->state;
  stop_ready_watch(self);
  if (!st.probe) return;
  self->unlink_from(st.probe);  // its exit must not take us with it
  self->send_exit(st.probe, caf::exit_reason::user_shutdown);
  st.probe = nullptr;
}

caf::error to_caf_error(const end_reason& r) {
  switch (r.what) {
    case end_reason::code::normal: return caf::error{};
    case end_reason::code::exited: return make_error(service_exit::exited, r.value);
    case end_reason::code::killed: return make_error(service_exit::killed, r.value);
    case end_reason::code::dumped: return make_error(service_exit::dumped, r.value);
    case end_reason::code::start_failed: return make_error(service_exit::start_failed, r.detail);
    case end_reason::code::readiness_timeout: return make_error(service_exit::readiness_timeout, r.detail);
    case end_reason::code::watchdog: return make_error(service_exit::watchdog, r.detail);
    case end_reason::code::oom: return make_error(service_exit::oom);
    case end_reason::code::shutdown: return make_error(service_exit::shutdown);
    case end_reason::code::lost: return make_error(service_exit::lost, r.detail);
  }
  return make_error(service_exit::lost, std::string{"unknown end"});
}

void complete_finish(self_ptr self, const end_reason& why);

// The incarnation is over: its cgroup is emptied first, so a restart never meets the previous one's leftovers.
void finish(self_ptr self, const end_reason& why) {
  auto& st = self->state;
  if (st.draining) return;  // already finishing
  if (drain_cgroup(self)) {
    // Quit once the watcher says the cgroup is empty (or the drain timer fires). The main process is gone:
    // nothing may signal its pid meanwhile, and lifecycle events are ignored (execute).
    st.draining = why;
    forget_process(self, st.pid);
    st.pid = 0;
    return;
  }
  complete_finish(self, why);
}

void complete_finish(self_ptr self, const end_reason& why) {
  auto& st = self->state;
  st.draining.reset();
  ++st.timer_generation[kDrainTimer];
  remove_service_cgroup(self);
  const caf::error reason = to_caf_error(why);
  const bool failed_start = !st.ready && (why.what == end_reason::code::start_failed ||
                                          why.what == end_reason::code::readiness_timeout ||
                                          why.what == end_reason::code::exited || why.what == end_reason::code::killed);
  if (failed_start && !st.lifecycle->stop_requested()) {
    context(self).console->failed("Failed to start " + config(self).name + ": " + describe_exit(reason) + ".");
  }
  if (why.what == end_reason::code::oom) {
    spdlog::warn("{}: the OOM killer struck in its cgroup (memory.max {})", config(self).name,
                 config(self).memory_max.set ? std::to_string(config(self).memory_max.bytes) : "unset");
  }
  forget_process(self, st.pid);
  clear_adoption_record(self);
  stop_probe(self);
  // The last word to the tracker: dependents waiting on us need to know how it ended.
  const bool clean = classify(reason) != exit_class::abnormal;
  service_report r{config(self).name, clean ? "stopped" : "failed", 0, describe_exit(reason), st.status_text};
  if (context(self).tracker) self->send(context(self).tracker, r);
  st.pid = 0;
  self->quit(reason);
}

}  // namespace

void execute(self_ptr self, const actions& todo) {
  auto& st = self->state;
  if (st.draining) return;  // the lifecycle has ended; only the drain's end matters now
  for (const action& a : todo) {
    switch (a.what) {
      case action::kind::spawn: spawn_main_process(self); break;
      case action::kind::start_probe: start_probe(self); break;
      case action::kind::find_main_pid:
        st.launcher_pid = st.pid;
        forget_process(self, st.pid);
        st.pid = 0;
        look_for_daemon(self);
        break;
      case action::kind::stop_probe: stop_probe(self); break;
      case action::kind::signal: signal_service(self, a.value); break;
      case action::kind::run_stop_command: run_stop_command(self); break;
      case action::kind::arm_timer: {
        const auto which = static_cast<uint8_t>(a.which);
        self->delayed_send(self, a.duration, timeout_atom_v, which, ++st.timer_generation[which]);
        break;
      }
      case action::kind::cancel_timer: ++st.timer_generation[static_cast<uint8_t>(a.which)]; break;
      case action::kind::report:
        if (st.lifecycle->state() == lifecycle_state::running && !st.ready) {
          st.ready = true;
          save_adoption_record(self);
        } else if (st.lifecycle->state() == lifecycle_state::done) {
          st.ready = true;
          st.pid = 0;
          adoption_record r = record_of(self);
          r.ready = true;
          r.done = true;
          self->send(context(self).file_io, record_save_atom_v, config(self).name, std::move(r));
        }
        report(self);
        break;
      case action::kind::quit: finish(self, a.reason); return;
    }
  }
}

namespace {

// After the restart delay: ask the tracker about dependencies, or start at once if there are none.
void begin_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.lifecycle->state() != lifecycle_state::waiting || st.lifecycle->stop_requested()) return;
  st.detail.clear();
  if (context(self).tracker && st.args.waits) {
    st.watching_deps = true;
    self->send(context(self).tracker, watch_deps_atom_v, config(self).name, st.args.rolled_back_by);
  } else {
    execute(self, st.lifecycle->on_dependencies_ready());
  }
}

// Reload moved the service to another supervisor, which adopts the process from its adoption record: leave
// without stopping it. The record stays (the new owner keeps it), and so do the pid's registrations with the
// reaper and the notify socket (the new owner's replace ours; an unwatch by pid could remove theirs); the new
// incarnation reports to the tracker. Without a process there is nothing to hand over: a plain stop.
void hand_over(self_ptr self) {
  auto& st = self->state;
  if (st.draining) return;
  const auto state = st.lifecycle->state();
  if (st.pid <= 0 || (state != lifecycle_state::running && state != lifecycle_state::starting)) {
    execute(self, st.lifecycle->on_stop());
    return;
  }
  spdlog::info("{}: pid {} handed over to its new supervisor", config(self).name, st.pid);
  stop_probe(self);
  if (st.pidfd >= 0) {
    context(self).loop->forget(st.pidfd);
    ::close(st.pidfd);
    st.pidfd = -1;
  }
  st.pid = 0;
  self->quit(make_error(service_exit::shutdown));
}

// Trapping exits: a readiness probe or cgroup watcher that dies must not take the incarnation with it while its
// process runs on (the restart would start a second copy). The supervisor dying still does (its processes keep
// running, for the next runtime to adopt).
void on_linked_exit(self_ptr self, const caf::exit_msg& msg) {
  auto& st = self->state;
  if (st.probe && msg.source == st.probe.address()) {
    st.probe = nullptr;
    if (msg.reason) {
      spdlog::error("{}: readiness probe failed: {}", config(self).name, caf::to_string(msg.reason));
      execute(self, st.lifecycle->on_probe_failed("readiness probe failed: " + caf::to_string(msg.reason)));
    }
    return;
  }
  if (st.cgroup_watcher && msg.source == st.cgroup_watcher.address()) {
    st.cgroup_watcher = nullptr;
    // The service runs on, managed; only the cgroup's notices are lost (a drain ends by its timer).
    spdlog::error("{}: cgroup watcher failed: {}; OOM kills and the cgroup's emptying are no longer watched",
                  config(self).name, caf::to_string(msg.reason));
    return;
  }
  if (msg.source == st.args.supervisor.address() && msg.reason) self->quit(msg.reason);
  // Anonymous (its source is this actor): the supervisor's shutdown timer ran out. Quit at once, killed.
  if (msg.source == self->address() && msg.reason) {
    spdlog::error("{}: killed by its supervisor's shutdown timer", config(self).name);
    signal_service(self, SIGKILL);
    forget_process(self, st.pid);
    clear_adoption_record(self);
    self->quit(make_error(service_exit::killed, SIGKILL));
  }
}

// A reply of `base` with the cgroup watcher's answer to `question` merged in (`base` alone without a
// watcher, or if it does not answer).
template <class Question, class Merge>
caf::result<std::string> with_cgroup_watcher(self_ptr self, nlohmann::json base, Question question, Merge merge) {
  if (!self->state.cgroup_watcher) return json_text(base);
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.cgroup_watcher, std::chrono::seconds(2), question)
      .then(
          [=](const std::string& answer) mutable {
            auto reply = base;
            auto w = nlohmann::json::parse(answer, nullptr, false);
            if (w.is_object()) merge(reply, std::move(w));
            rp.deliver(json_text(reply));
          },
          [=](caf::error&) mutable { rp.deliver(json_text(base)); });
  return rp;
}

caf::behavior service_behavior(self_ptr self) {
  return {
      [=](delay_done_atom) { begin_waiting(self); },
      [=](delay_done_atom, bool) {
        if (!self->state.draining) look_for_daemon(self);
      },
      [=](deps_atom, uint8_t verdict, const std::string& on, const std::string& why) {
        auto& st = self->state;
        // Started already: a verdict the tracker sent before it saw our unwatch_deps is stale.
        if (!st.watching_deps) return;
        if (verdict == 1) {
          self->send(context(self).tracker, unwatch_deps_atom_v, config(self).name);
          st.watching_deps = false;
          st.detail.clear();
          execute(self, st.lifecycle->on_dependencies_ready());
        } else if (verdict == 2) {
          execute(self, st.lifecycle->on_dependency_failed(on, why));
        } else {
          st.detail = "waiting for " + on;
          if (st.lifecycle->state() == lifecycle_state::blocked) {
            // The blocking requirement is coming back: wait for it again instead of staying failed.
            execute(self, st.lifecycle->on_dependency_failed(on, "restarting"));
          }
          report(self);
        }
      },
      [=](child_exit_atom, int pid, int status) {
        auto& st = self->state;
        if (pid == st.stop_pid) {
          if (config(self).notify_access_mode == notify_access::exec) forget_process(self, pid);
          st.stop_pid = 0;
          execute(self, st.lifecycle->on_stop_command_exit());
          return;
        }
        if (pid != st.pid) return;
        const auto how = process_exit::from_wait_status(status);
        spdlog::info("{}: process {} {}", config(self).name, pid, how.describe());
        process_end end;
        end.kind = how.how == process_exit::kind::exited   ? process_end::how::exited
                   : how.how == process_exit::kind::killed ? process_end::how::killed
                                                           : process_end::how::dumped;
        end.code = how.code;
        // The OOM killer's SIGKILL and its memory.events notice race: look before deciding what the exit was.
        if (oom_struck(self)) execute(self, st.lifecycle->on_oom());
        execute(self, st.lifecycle->on_exit(end));
      },
      [=](oom_atom, uint64_t) {
        if (oom_struck(self)) execute(self, self->state.lifecycle->on_oom());
      },
      [=](populated_atom, bool populated) {
        auto& st = self->state;
        if (populated || !st.draining || st.reaping_strays) return;
        // What the drain killed were strays the runtime inherited as orphans (no pidfd: the reaper finds them by
        // a rate-limited scan): reaped before the stop is reported, so no zombie of the service outlives it.
        st.reaping_strays = true;
        auto done = [=] {
          if (self->state.draining) complete_finish(self, *self->state.draining);
        };
        self->request(context(self).reaper, caf::infinite, reap_now_atom_v)
            .await([=](bool) { done(); }, [=](caf::error&) { done(); });
      },
      [=](io_ready_atom, uint64_t tag, uint32_t) {
        auto& st = self->state;
        if (tag == kReadyFdTag) {
          if (st.ready_watch >= 0 && !st.draining) on_ready_fd(self);
          return;
        }
        // The adopted process or a MAINPID= grandchild (not our child) is gone; its exit status cannot be known.
        if (st.pidfd < 0) return;
        context(self).loop->forget(st.pidfd);
        ::close(st.pidfd);
        st.pidfd = -1;
        execute(self, st.lifecycle->on_exit(process_end{process_end::how::unknown, 0}));
      },
      [=](stop_atom) { execute(self, self->state.lifecycle->on_stop()); },
      [=](release_atom) { hand_over(self); },
      [=](ready_atom) { execute(self, self->state.lifecycle->on_ready()); },
      [=](check_pid_atom, int pid) { self->state.check_pid = pid; },
      [=](probe_fail_atom, const std::string& why) {
        self->state.probe = nullptr;
        execute(self, self->state.lifecycle->on_probe_failed(why));
      },
      [=](timeout_atom, uint8_t which, uint64_t generation) {
        auto& st = self->state;
        if (which > kDrainTimer || generation != st.timer_generation[which]) return;
        if (which == kDrainTimer) {
          if (st.draining) complete_finish(self, *st.draining);
          return;
        }
        execute(self, st.lifecycle->on_timer(static_cast<action::timer>(which)));
      },
      [=](notify_atom, const notify_fields& fields, int sender) {
        handle_notify(self, fields, sender);
        return true;
      },
      [=](tree_atom) -> caf::result<std::string> {
        auto& st = self->state;
        nlohmann::json node{{"kind", "service_incarnation"}, {"mailbox", self->mailbox().size()},
                            {"children", nlohmann::json::array()}};
        if (st.probe) {
          node["children"].push_back({{"kind", "readiness_probe"}, {"name", describe_readiness(config(self))},
                                      {"state", "probing"}});
        }
        return with_cgroup_watcher(self, std::move(node), tree_atom_v,
                                   [](nlohmann::json& n, nlohmann::json w) { n["children"].push_back(std::move(w)); });
      },
      [=](status_atom) -> caf::result<std::string> {
        auto& st = self->state;
        nlohmann::json j{{"state", behaviours::to_string(st.lifecycle->state())},
                         {"pid", st.pid},
                         {"ready", st.ready},
                         {"status_text", st.status_text},
                         {"status_errno", st.status_errno},
                         {"notify_refused", st.notify_refused},
                         {"invocation_id", st.invocation_id},
                         {"readiness", describe_readiness(config(self))}};
        if (st.lifecycle->state() == lifecycle_state::blocked) j["blocked_on"] = st.lifecycle->blocked_on();
        return with_cgroup_watcher(self, std::move(j), cg_stats_atom_v,
                                   [](nlohmann::json& n, nlohmann::json w) { n["cgroup"] = std::move(w); });
      },
  };
}

}  // namespace

caf::behavior service_actor(self_ptr self, service_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.lifecycle = std::make_unique<behaviours::service_lifecycle>(lifecycle_options_for(config(self)));
  self->set_exit_handler([=](caf::exit_msg& msg) { on_linked_exit(self, msg); });
  self->set_exception_handler([=](std::exception_ptr& eptr) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{}: internal error: {}", config(self).name, what);
    // The incarnation dies; its process must not outlive it, or the restart would run a second copy.
    signal_service(self, SIGKILL);
    return make_error(service_exit::start_failed, "internal error: " + what);
  });

  if (st.args.adopt) {
    // The previous runtime started this process; it is still the same one (checked against /proc).
    const adoption_record& a = *st.args.adopt;
    st.invocation_id = a.invocation_id;
    st.fingerprint = a.fingerprint;  // what it was started from, until it is restarted
    if (a.done) {
      spdlog::info("{}: completed under the previous runtime", config(self).name);
      st.ready = true;
      st.last_state = "done";
      execute(self, st.lifecycle->on_adopted_done());
      return service_behavior(self);
    }
    st.pid = a.pid;
    st.proc_start_time = a.start_time;
    st.invocation_id = a.invocation_id;
    st.status_text = a.status_text;
    st.ready = a.ready;
    watch_process(self, a.pid, false);
    const bool ended = !watch_adopted_exit(self, a);
    watch_cgroup(self);
    spdlog::info("{}: adopted pid {} from the previous runtime", config(self).name, a.pid);
    st.last_state = a.ready ? "running" : "";
    execute(self, st.lifecycle->on_adopted(a.ready));
    if (ended) {
      spdlog::info("{}: pid {} ended before it was adopted", config(self).name, a.pid);
      execute(self, st.lifecycle->on_exit(process_end{process_end::how::unknown, 0}));
    }
  } else if (st.args.start_delay.count() > 0) {
    st.detail = "restart delay";
    report(self);
    self->delayed_send(self, st.args.start_delay, delay_done_atom_v);
  } else {
    begin_waiting(self);
  }

  return service_behavior(self);
}

}  // namespace dynamod::service

namespace dynamod {

caf::actor spawn_service(caf::event_based_actor* supervisor, service_args args) {
  return supervisor->spawn(service::service_actor, std::move(args));
}

}  // namespace dynamod
