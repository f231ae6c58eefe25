#include "actors/supervisor_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/exit_reasons.hpp"
#include "actors/json_text.hpp"
#include "actors/log_sink_actor.hpp"
#include "actors/service_actor.hpp"
#include "actors/supervisor_state.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/config/definition_fingerprint.hpp"
#include "runtime/console_status.hpp"

#include <csignal>

namespace dynamod {

namespace supervision {

using namespace std::chrono_literals;
using behaviours::command;
constexpr auto kBackoffForgiveness = 60s;  // an incarnation up this long resets its backoff

const std::string& my_name(self_ptr self) { return self->state.args.node.name; }

namespace {

const runtime_context& context(self_ptr self) { return *self->state.args.context; }

// The child whose incarnation (or, with `sink`, whose log sink) `a` is. Every spawn of either is remembered in
// linked_ids (remember_linked), so an exit finds its child in O(1); an address not there is none of ours.
child_record* find_by_address(self_ptr self, const caf::actor_addr& a, bool sink = false) {
  auto& st = self->state;
  auto it = st.linked_ids.find(a);
  if (it == st.linked_ids.end()) return nullptr;
  child_record* c = find(self, it->second);
  const caf::actor* linked = c ? (sink ? &c->log_sink : &c->incarnation) : nullptr;
  return linked && *linked && linked->address() == a ? c : nullptr;
}

void remember_linked(self_ptr self, const caf::actor& linked, const std::string& id) {
  if (linked) self->state.linked_ids[linked.address()] = id;
}

behaviours::strategy to_logic(supervisor_strategy s) {
  switch (s) {
    case supervisor_strategy::one_for_one: return behaviours::strategy::one_for_one;
    case supervisor_strategy::one_for_all: return behaviours::strategy::one_for_all;
    case supervisor_strategy::rest_for_one: return behaviours::strategy::rest_for_one;
    case supervisor_strategy::simple_one_for_one: return behaviours::strategy::simple_one_for_one;
  }
  return behaviours::strategy::one_for_one;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(clock::now().time_since_epoch()).count();
}

std::chrono::milliseconds restart_delay(const child_record& c) {
  const auto& cfg = *c.node.service;
  auto delay = cfg.restart_delay;
  if (cfg.backoff && c.consecutive_failures > 1) {
    for (int i = 1; i < c.consecutive_failures && delay < cfg.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, cfg.backoff_max);
  }
  return delay;
}

adoption_store state_store(self_ptr self) { return adoption_store{records_dir(context(self).paths)}; }

// The restart history outlives this runtime: a service crash-looping across runtime restarts reaches its limit.
void save_history(self_ptr self) {
  static const std::string boot_id = current_boot_id();
  auto& st = self->state;
  restart_history h;
  h.boot_id = boot_id;
  h.supervisor = st.logic->intensity_history();
  for (const auto& c : st.children) {
    auto times = st.logic->child_history(c.id());
    if (c.restarts == 0 && c.consecutive_failures == 0 && times.empty()) continue;
    h.children[c.id()] = child_history{c.restarts, c.consecutive_failures, std::move(times)};
  }
  self->send(context(self).file_io, history_save_atom_v, my_name(self), std::move(h));
}

void restore_history(self_ptr self, const std::optional<restart_history>& h) {
  if (!h) return;
  auto& st = self->state;
  std::unordered_map<std::string, std::vector<int64_t>> times;
  for (const auto& [id, ch] : h->children) {
    if (child_record* c = find(self, id)) {
      c->restarts = ch.restarts;
      c->consecutive_failures = ch.consecutive_failures;
    }
    times[id] = ch.times;
  }
  st.logic->restore_history(h->supervisor, times, now_seconds());
  spdlog::info("supervisor {}: restart history kept from the previous runtime ({} restart(s) in its window)",
               my_name(self), st.logic->intensity_entries());
}

void ensure_log_sink(self_ptr self, child_record& c) {
  if (!c.is_service() || c.log_sink) return;
  const auto& cfg = *c.node.service;
  log_sink_args a;
  a.service = cfg.name;
  a.file = cfg.log_file.empty() ? context(self).paths.log_dir + "/" + cfg.name + ".log" : cfg.log_file;
  a.max_size = cfg.log_max_size;
  a.keep = cfg.log_keep;
  a.context = self->state.args.context;
  c.log_sink = spawn_log_sink(self, std::move(a));
  remember_linked(self, c.log_sink, c.id());
}

// The sink drains its FIFOs as it stops (a new one reads after it). `removed`: the service is gone, PID 1 may
// let go of its FIFOs.
void stop_log_sink(self_ptr self, child_record& c, bool removed = false) {
  if (!c.log_sink) return;
  self->unlink_from(c.log_sink);  // its exit is ours to cause, not to react to
  self->state.linked_ids.erase(c.log_sink.address());
  if (removed) {
    self->send(c.log_sink, log_remove_atom_v);
  } else {
    self->send_exit(c.log_sink, caf::exit_reason::user_shutdown);
  }
  c.log_sink = nullptr;
}

// The cgroup tree mirrors the supervision tree: root's children sit directly under the base.
std::string child_cgroup_path(self_ptr self, const std::string& child) {
  const std::string& mine = self->state.args.cgroup_path;
  return mine.empty() ? child : mine + "/" + child;
}

// Whose failure restarts child `c` too: its group's (supervisor_logic), and whatever restarts us.
std::vector<std::string> rolled_back_by(self_ptr self, const child_record& c) {
  auto out = self->state.logic->rolled_back_by(c.id());
  const auto& inherited = self->state.args.rolled_back_by;
  out.insert(out.end(), inherited.begin(), inherited.end());
  return out;
}

// Before a batch of starts is spawned, the tracker marks every service it brings (a sub-supervisor: all those
// under it) pending again. Sent before the spawns, it is queued before anything the new incarnations send, so
// no previous incarnation's last report (stopped, failed) lets a sibling ordered after it start early. A
// service outside the batch (a completed oneshot elsewhere) keeps its state.
void announce_starts(self_ptr self, const std::vector<command>& cmds) {
  if (!context(self).tracker) return;
  std::vector<std::string> names;
  for (const auto& cmd : cmds) {
    if (cmd.what != command::kind::start) continue;
    if (const child_record* c = find(self, cmd.child)) {
      for (const auto& s : services_in_order(c->node)) names.push_back(s->name);
    }
  }
  if (!names.empty()) self->send(context(self).tracker, pending_atom_v, std::move(names));
}

void start_child(self_ptr self, child_record& c) {
  const bool restart = c.starts > 0;
  ++c.starts;
  if (restart) ++c.restarts;
  c.started_at = clock::now();
  if (c.is_service()) {
    ensure_log_sink(self, c);
    std::chrono::milliseconds delay{0};
    if (c.delay_next) delay = restart_delay(c);
    c.delay_next = false;
    const bool adopting = c.adopt.has_value();
    service_args a{c.node.service,
                   delay,
                   std::exchange(c.adopt, std::nullopt),
                   c.node.waits,
                   self->state.args.context,
                   caf::actor_cast<caf::actor>(self),
                   child_cgroup_path(self, c.id()),
                   rolled_back_by(self, c)};
    c.incarnation = spawn_service(self, std::move(a));
    self->state.to_link.push_back(c.incarnation);  // linked at the end of the batch (execute)
    remember_linked(self, c.incarnation, c.id());
    // An adopted one keeps what new_child_record showed (running, its pid) until its incarnation reports.
    if (!adopting) {
      c.last = service_report{c.id(), "waiting", 0, delay.count() > 0 ? "restart delay" : "", c.last.status_text};
    }
  } else {
    // The first start after a runtime restart adopts what the predecessor left running. So does a restart:
    // a sub-supervisor that crashed took its service actors along but not their processes (records are
    // checked against /proc); one that gave up stopped its children first, leaving nothing to adopt.
    c.incarnation = spawn_supervisor(self, supervisor_args{c.node,
                                                           self->state.args.context,
                                                           self->state.args.adopt || restart,
                                                           {},
                                                           child_cgroup_path(self, c.id()),
                                                           rolled_back_by(self, c)});
    remember_linked(self, c.incarnation, c.id());
    c.last = service_report{c.id(), "running", 0, {}, {}};
  }
  c.state_since = clock::now();
}

// Answers operator requests whose outcome is now known.
void resolve(child_record& c, pending_request::kind what, const std::string& result, const std::string& error = {}) {
  for (auto it = c.waiting.begin(); it != c.waiting.end();) {
    if (it->what != what) {
      ++it;
      continue;
    }
    if (error.empty()) {
      it->promise.deliver(json_text(nlohmann::json{{"service", c.id()}, {"result", result}, {"state", c.last.state},
                                         {"pid", c.last.pid}}));
    } else {
      it->promise.deliver(caf::make_error(caf::sec::runtime_error, error));
    }
    it = c.waiting.erase(it);
  }
}

// The shutdown timers of all terminating children share one CAF timer, set for the earliest deadline.
void schedule_shutdown_check(self_ptr self, clock::time_point at) {
  auto& st = self->state;
  if (st.next_shutdown_check && *st.next_shutdown_check <= at) return;  // an earlier check looks at it too
  st.next_shutdown_check = at;
  const auto delay = std::max(at - clock::now(), clock::duration::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay), tick_atom_v,
                     static_cast<int64_t>(at.time_since_epoch().count()));
}

// OTP's shutdown timer: a child told to terminate that is still there after its `shutdown` time is killed
// (exit(kill)), so a termination run (a stop, a reload, the shutdown) never waits forever on one child. A service's
// processes are SIGKILLed first: its incarnation dies without doing it (unless they were handed over).
void arm_shutdown_timer(self_ptr self, child_record& c) {
  const auto timeout = behaviours::shutdown_timeout(!c.is_service(), c.is_service() ? c.node.service->stop_timeout
                                                                                    : std::chrono::milliseconds{0});
  if (!timeout) return;  // a sub-supervisor: OTP's infinity; its own timers bound its children
  c.stop_deadline = clock::now() + *timeout;  // a new terminate replaces the deadline of an earlier one
  schedule_shutdown_check(self, *c.stop_deadline);
}

void on_shutdown_timeout(self_ptr self, const std::string& id);

// The shared shutdown timer fired (for `target`): every child past its deadline is killed; the timer is set again
// for the earliest deadline still ahead.
void check_shutdown_deadlines(self_ptr self, int64_t target) {
  auto& st = self->state;
  if (!st.next_shutdown_check || st.next_shutdown_check->time_since_epoch().count() != target) return;  // superseded
  st.next_shutdown_check.reset();
  const auto now = clock::now();
  std::vector<std::string> expired;
  std::optional<clock::time_point> next;
  for (auto& c : st.children) {
    if (!c.stop_deadline) continue;
    if (!c.incarnation || st.logic->state(c.id()) != behaviours::child_state::terminating) {
      c.stop_deadline.reset();  // it stopped in time
    } else if (*c.stop_deadline <= now) {
      c.stop_deadline.reset();
      expired.push_back(c.id());
    } else if (!next || *c.stop_deadline < *next) {
      next = c.stop_deadline;
    }
  }
  for (const auto& id : expired) on_shutdown_timeout(self, id);
  if (next) schedule_shutdown_check(self, *next);
}

void on_shutdown_timeout(self_ptr self, const std::string& id) {
  child_record* c = find(self, id);
  if (!c || !c->incarnation || self->state.logic->state(id) != behaviours::child_state::terminating) {
    return;
  }
  spdlog::error("{}: did not stop within its shutdown time; killing it", id);
  if (!c->hand_over && c->is_service()) {
    const pid_t pid = c->last.pid;
    // Never pid 1 or ourselves; the group only when the process leads it (it may not own the group it is in).
    if (pid > 1 && pid != ::getpid()) {
      if (::getpgid(pid) == pid) ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    if (!context(self).cgroup_base.empty()) kill_cgroup(context(self).cgroup_base + "/" + child_cgroup_path(self, id));
  }
  // OTP's exit(Child, kill), in CAF terms: not exit_reason::kill, which is fatal to whoever receives it, so its
  // linked supervisor (us) would die of its exit; not from us either, or CAF unlinks it from us first and no exit_msg
  // comes back. An anonymous exit it traps and obeys (service_actor), and its exit ends the termination as usual.
  caf::anon_send_exit(c->incarnation, caf::exit_reason::user_shutdown);
}

void on_child_exit(self_ptr self, child_record& c, const caf::error& reason) {
  auto& st = self->state;
  c.incarnation = nullptr;
  c.last_exit = describe_exit(reason);
  if (is_service_exit(reason, service_exit::oom)) ++c.oom_kills;
  c.last.state = classify(reason) == exit_class::abnormal ? "failed" : "stopped";
  c.last.pid = 0;
  c.last.detail = c.last_exit;
  c.state_since = clock::now();
  if (st.logic->state(c.id()) == behaviours::child_state::terminating) {
    if (c.hand_over) {
      spdlog::info("{}: handed over to its new supervisor", c.id());
    } else {
      spdlog::info("{}: stopped ({})", c.id(), c.last_exit);
      if (c.is_service()) context(self).console->ok("Stopped " + c.id() + ".");
    }
    resolve(c, pending_request::kind::stop, "stopped");
    const std::string id = c.id();
    execute(self, st.logic->on_terminated(id));
    child_record* rec = find(self, id);
    if (rec == nullptr) return;
    if (rec->remove_after_stop) {
      drop_child(self, id);  // reload dropped it from the configuration
      return;
    }
    if (rec->replace_after_stop) {
      // Reload changed its definition: start it again as it is now.
      rec->node = std::move(*rec->replace_after_stop);
      rec->replace_after_stop.reset();
      st.logic->replace_child(spec_for(rec->node));
      stop_log_sink(self, *rec);  // its file or limits may have changed
      execute(self, st.logic->start_child(id));
      return;
    }
    // A restart requested by the operator continues with a start once the child is down.
    bool restart_requested = false;
    for (const auto& w : rec->waiting) restart_requested |= w.what == pending_request::kind::restart;
    if (restart_requested) execute(self, st.logic->start_child(id));
    return;
  }
  resolve(c, pending_request::kind::start, "", "failed to start " + c.id() + ": " + c.last_exit);
  resolve(c, pending_request::kind::restart, "", "failed to restart " + c.id() + ": " + c.last_exit);
  const auto kind = classify(reason);
  const bool long_run = clock::now() - c.started_at >= kBackoffForgiveness;
  c.consecutive_failures = long_run ? 1 : c.consecutive_failures + 1;
  c.delay_next = true;
  if (kind == exit_class::abnormal) {
    spdlog::warn("{}: {}", c.id(), c.last_exit);
    context(self).console->failed(c.id() + ": " + c.last_exit + ".");
  } else {
    spdlog::info("{}: {}", c.id(), c.last_exit);
  }
  const auto logic_kind = kind == exit_class::normal     ? behaviours::exit_kind::normal
                          : kind == exit_class::shutdown ? behaviours::exit_kind::shutdown
                                                         : behaviours::exit_kind::abnormal;
  execute(self, st.logic->on_exit(c.id(), logic_kind, now_seconds()));
  if (!st.logic->exiting()) save_history(self);
}

// give_up_mode::degrade (the root of an init): the logic left this child down instead of giving up. It stays
// failed, says why, blocks its dependents, and waits for an operator's start; everything else runs on.
void leave_failed(self_ptr self, child_record& c, const std::string& why) {
  c.last.state = "failed";
  c.last.pid = 0;
  c.last.detail = "gave up: " + why + (c.last_exit.empty() ? "" : "; last: " + c.last_exit);
  c.state_since = clock::now();
  c.delay_next = false;
  c.consecutive_failures = 0;
  spdlog::error("{}: {}; system degraded: it stays down until `dynamodctl start {}`", c.id(), c.last.detail, c.id());
  context(self).console->failed((c.is_service() ? "" : "Supervisor ") + c.id() + ": " + c.last.detail + ".");
  // The tracker heard "failed" from the last incarnation already; this tells dependents why it stays so, and that
  // no group rollback will bring it back (an `after` sibling of a one_for_all root must not wait for one).
  if (c.is_service() && context(self).tracker) {
    service_report abandoned = c.last;
    abandoned.state = "abandoned";
    self->send(context(self).tracker, abandoned);
  }
  // A sub-supervisor's services went down with it: requests about them come here until it runs again.
  if (!c.is_service() && context(self).runtime) {
    for (const auto& s : services_in_order(c.node)) {
      self->send(context(self).runtime, child_of_atom_v, s->name, caf::actor_cast<caf::actor>(self));
    }
  }
}

void begin_stop(self_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  execute(self, st.logic->shutdown());
}

// dynamodctl start/stop/restart: OTP's restart_child / terminate_child, answered once the outcome is known.
caf::result<std::string> operate(self_ptr self, pending_request::kind what, const std::string& name, bool wait) {
  auto& st = self->state;
  child_record* c = find(self, name);
  if (!c) {
    if (const child_record* sup = failed_supervisor_of(self, name)) {
      return caf::make_error(caf::sec::invalid_argument, name + " is down with its supervisor " + sup->id() + " (" +
                                                             sup->last.detail + "); start " + sup->id() + " instead");
    }
    return caf::make_error(caf::sec::invalid_argument, "unknown service '" + name + "'");
  }
  const auto state = st.logic->state(name);
  if (!c->is_service() && (what == pending_request::kind::stop || state != behaviours::child_state::failed)) {
    return caf::make_error(caf::sec::invalid_argument,
                           "'" + name + "' is a supervisor: only one the root left failed can be started");
  }
  if (st.stopping) return caf::make_error(caf::sec::runtime_error, "the system is shutting down");
  const bool running = state == behaviours::child_state::running;
  auto answer = [&](const std::string& result) {
    return json_text(nlohmann::json{{"service", name}, {"result", result}, {"state", c->last.state}, {"pid", c->last.pid}});
  };
  if (state == behaviours::child_state::removed && what != pending_request::kind::stop) {
    // A temporary service that ended left the tree (OTP drops its spec); starting it puts it back, at once (an
    // operator's start waits no restart delay).
    st.logic->add_child(spec_for(c->node));
    c->delay_next = false;
    what = pending_request::kind::start;
  }
  if (state == behaviours::child_state::failed && what != pending_request::kind::stop) {
    // Degrade left it failed: an operator's start retries it at once, with a fresh history (the logic's own limit
    // and the backoff here).
    c->delay_next = false;
    c->consecutive_failures = 0;
  }
  switch (what) {
    case pending_request::kind::start:
      // Its incarnation is blocked by a failed requirement: the start fails, saying which.
      if (running && c->is_service() && c->last.state == "failed") {
        return caf::make_error(caf::sec::runtime_error, "failed to start " + name + ": " + c->last.detail);
      }
      if (running) return answer("already running");
      execute(self, st.logic->start_child(name));
      break;
    case pending_request::kind::stop:
      if (state == behaviours::child_state::stopped || state == behaviours::child_state::removed ||
          state == behaviours::child_state::failed) {
        return answer("already stopped");
      }
      execute(self, st.logic->terminate_child(name));
      break;
    case pending_request::kind::restart:
      if (running) {
        execute(self, st.logic->terminate_child(name));
      } else {
        execute(self, st.logic->start_child(name));
        what = pending_request::kind::start;
      }
      break;
  }
  // A failed child's fresh history must outlive this runtime too, or the next one would fail it again at once.
  if (state == behaviours::child_state::failed && what != pending_request::kind::stop) save_history(self);
  if (!wait) return answer("requested");
  // A supervisor reports no readiness of its own: it runs once spawned, and its services start as usual.
  if (!c->is_service()) return answer("started");
  auto rp = self->make_response_promise<std::string>();
  c->waiting.push_back({what, rp});
  return rp;
}

}  // namespace

child_record* find(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.child_index.find(id);
  if (it != st.child_index.end() && it->second < st.children.size() && st.children[it->second].id() == id) {
    return &st.children[it->second];
  }
  for (size_t i = 0; i < st.children.size(); ++i) {  // not indexed (yet): found once, then indexed
    if (st.children[i].id() == id) {
      st.child_index[id] = i;
      return &st.children[i];
    }
  }
  return nullptr;
}

void abandon_requests(child_record& c, const std::string& why) {
  for (auto& w : c.waiting) w.promise.deliver(caf::make_error(caf::sec::runtime_error, why));
  c.waiting.clear();
}

namespace {
void abandon_all_requests(self_ptr self, const std::string& why) {
  for (auto& c : self->state.children) abandon_requests(c, why);
}
}  // namespace

bool drop_child(self_ptr self, const std::string& id) {
  auto& st = self->state;
  child_record* rec = find(self, id);
  if (rec == nullptr || !st.logic->delete_child(id)) return false;
  abandon_requests(*rec, id + " was removed from the configuration by a reload");
  if (context(self).runtime && rec->is_service()) self->send(context(self).runtime, child_of_atom_v, id, caf::actor{});
  // Handed over (moved by a reload): the FIFO goes on serving the new owner's sink, so PID 1 keeps holding it.
  stop_log_sink(self, *rec, !rec->hand_over);
  st.children.erase(st.children.begin() + (rec - st.children.data()));
  st.child_index.clear();
  for (size_t i = 0; i < st.children.size(); ++i) st.child_index[st.children[i].id()] = i;
  return true;
}

const child_record* failed_supervisor_of(self_ptr self, const std::string& service) {
  for (const auto& c : self->state.children) {
    if (c.is_service() || self->state.logic->state(c.id()) != behaviours::child_state::failed) continue;
    for (const auto& s : services_in_order(c.node)) {
      if (s->name == service) return &c;
    }
  }
  return nullptr;
}

std::optional<adoption_decision> read_adoption(self_ptr self, const plan_node& n) {
  if (!n.service) return std::nullopt;
  return state_store(self).reconcile(n.name, definition_fingerprint(*n.service));
}

child_record new_child_record(const plan_node& n, const std::optional<adoption_decision>& d) {
  child_record r;
  r.node = n;
  r.last = service_report{n.name, "waiting", 0, {}, {}};
  if (n.service) {
    if (d && d->what == adoption_decision::verdict::adopt) {
      r.adopt = d->record;
      r.stale_definition = d->stale;
    } else if (d && d->record.done) {
      spdlog::info("{}: its definition changed since it completed: it runs again", n.name);
    }
    // Until its incarnation reports, show what is still running, not "waiting".
    if (r.adopt) {
      r.last.state = r.adopt->done ? "done" : r.adopt->ready ? "running" : "starting";
      r.last.pid = r.adopt->done ? 0 : r.adopt->pid;
    }
  }
  return r;
}

behaviours::child_spec spec_for(const plan_node& n) {
  behaviours::child_spec s;
  s.id = n.name;
  if (n.service) {
    const auto& c = *n.service;
    s.restart = c.restart == restart_policy::transient   ? behaviours::restart_type::transient
                : c.restart == restart_policy::temporary ? behaviours::restart_type::temporary
                                                         : behaviours::restart_type::permanent;
    s.autostart = c.start_at_boot;
    s.own_limit = behaviours::intensity_limit{
        c.max_restarts, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(c.max_restart_window).count())};
  }
  // Supervisors are permanent children (OTP's default), with no limit of their own.
  s.depends_on = n.needs;
  return s;
}

void register_services(self_ptr self) {
  if (!context(self).runtime) return;
  for (const auto& c : self->state.children) {
    if (c.is_service()) self->send(context(self).runtime, child_of_atom_v, c.id(), caf::actor_cast<caf::actor>(self));
  }
}

void restart_if_stale(self_ptr self, const std::string& id) {
  auto& st = self->state;
  child_record* c = find(self, id);
  if (!c || !std::exchange(c->stale_definition, false) || !c->incarnation ||
      st.logic->state(id) != behaviours::child_state::running) {
    return;
  }
  spdlog::warn("{}: its definition changed while no runtime ran (pid {} runs the previous one): restarting it", id,
               c->last.pid);
  c->replace_after_stop = c->node;
  execute(self, st.logic->terminate_child(id));
}

// The incarnations a batch spawns are linked when it is done (on every way out of execute), after their log
// sinks (each spawned just before its incarnation). CAF keeps an actor's links in a list, newest first, and
// finds an exited child by walking it from the front; children stop in reverse start order, so each exit is then
// found at the front. Linked as they were spawned, every exit would walk past the sinks of all children that
// stopped before it: N²/2 steps for a stop of N. Nothing can end us between the spawn and the link (we are
// inside one message), and CAF sends us the exit of one that ended meanwhile as soon as we link to it.
struct link_spawned_at_exit {
  self_ptr self;
  ~link_spawned_at_exit() {
    for (const auto& incarnation : std::exchange(self->state.to_link, {})) self->link_to(incarnation);
  }
};

void execute(self_ptr self, const std::vector<command>& cmds) {
  const link_spawned_at_exit link_batch{self};
  announce_starts(self, cmds);
  for (const auto& cmd : cmds) {
    switch (cmd.what) {
      case command::kind::start:
        if (auto* c = find(self, cmd.child)) start_child(self, *c);
        break;
      case command::kind::terminate:
        if (auto* c = find(self, cmd.child); c && c->incarnation) {
          if (c->hand_over) {
            self->send(c->incarnation, release_atom_v);
          } else {
            self->send(c->incarnation, stop_atom_v);
            c->last.state = "stopping";
          }
          arm_shutdown_timer(self, *c);
        } else {
          // Nothing left to stop (its exit was already handled): terminated now, or the run would wait forever.
          execute(self, self->state.logic->on_terminated(cmd.child));
        }
        break;
      case command::kind::fail:
        if (auto* c = find(self, cmd.child)) leave_failed(self, *c, cmd.note);
        break;
      case command::kind::exit: {
        auto& st = self->state;
        // Stopped in order or given up: a fresh start (OTP: a new supervisor process) has a fresh history.
        self->send(context(self).file_io, history_clear_atom_v, my_name(self));
        if (cmd.note == "shutdown") {
          spdlog::info("supervisor {}: all children stopped", my_name(self));
          for (auto& p : st.stop_promises) p.deliver(stopped_atom_v);
          st.stop_promises.clear();
          abandon_all_requests(self, "supervisor " + my_name(self) + " stopped");
          self->quit(make_error(service_exit::shutdown));
        } else {
          // OTP: a supervisor that gives up exits with `shutdown`; its parent applies its own strategy.
          spdlog::error("supervisor {} gave up: {}", my_name(self), cmd.note);
          context(self).console->failed("Supervisor " + my_name(self) + " gave up: " + cmd.note + ".");
          // Its children are stopped by now: a stop_all that raced with the give-up has its answer.
          for (auto& p : st.stop_promises) p.deliver(stopped_atom_v);
          st.stop_promises.clear();
          abandon_all_requests(self, "supervisor " + my_name(self) + " gave up: " + cmd.note);
          self->quit(make_error(service_exit::escalated, my_name(self) + ": " + cmd.note));
        }
        return;
      }
    }
  }
}

behaviours::give_up_mode give_up_mode_of(const plan_node& n) {
  // Only the root of an init may keep going: every other supervisor escalates, as in OTP.
  const bool root = n.name == "root" && n.supervisor;
  return root && n.supervisor->give_up == give_up_action::degrade ? behaviours::give_up_mode::degrade
                                                                  : behaviours::give_up_mode::escalate;
}

int64_t uptime_ms(const clock::time_point& since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - since).count();
}

}  // namespace supervision

using namespace supervision;

static caf::behavior supervisor_actor(self_ptr self, supervisor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.parent = st.args.parent;
  const auto& cfg = *st.args.node.supervisor;
  std::vector<behaviours::child_spec> specs;
  specs.reserve(st.args.node.children.size());
  for (auto& n : st.args.node.children) specs.push_back(spec_for(n));
  st.logic = std::make_unique<behaviours::supervisor_logic>(
      to_logic(cfg.strategy),
      behaviours::intensity_limit{cfg.max_restarts,
                                  static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg.max_restart_window).count())},
      std::move(specs), behaviours::termination_order::by_dependencies, give_up_mode_of(st.args.node));

  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto* incarnation_of = find_by_address(self, msg.source);
    auto* sink_of = incarnation_of ? nullptr : find_by_address(self, msg.source, true);
    self->state.linked_ids.erase(msg.source);  // whatever it was, it is gone
    if (incarnation_of) {
      on_child_exit(self, *incarnation_of, msg.reason);
      return;
    }
    if (sink_of) {
      spdlog::error("log sink of {} failed: {}; starting a new one", sink_of->id(), caf::to_string(msg.reason));
      sink_of->log_sink = nullptr;
      ensure_log_sink(self, *sink_of);
      return;
    }
    // Our parent dying abnormally takes us along at once (no orderly stop: the processes keep running, so
    // that the next runtime can adopt them). Anything else is an incarnation we already let go.
    if (msg.source == self->state.parent && msg.reason) {
      abandon_all_requests(self, "supervisor " + my_name(self) + " went down with its parent");
      self->quit(msg.reason);
    }
  });

  // What the predecessor left (records, restart history) comes from the file I/O actor; nothing else is done
  // until it answered (await), so no request meets a supervisor without its children.
  auto begin = [=](const adoption_findings& found) {
    auto& st = self->state;
    st.children.reserve(st.args.node.children.size());
    for (size_t i = 0; i < st.args.node.children.size(); ++i) {
      st.children.push_back(new_child_record(st.args.node.children[i],
                                             i < found.decisions.size() ? found.decisions[i] : std::nullopt));
    }
    restore_history(self, found.history);
    register_services(self);
    // A service started only when asked but running now (a previous runtime started it) is adopted as usual.
    std::vector<std::string> adopted_manual;
    for (size_t i = 0; i < st.args.node.children.size() && i < found.decisions.size(); ++i) {
      const auto& n = st.args.node.children[i];
      if (n.service && !n.service->start_at_boot && found.decisions[i] &&
          found.decisions[i]->what == adoption_decision::verdict::adopt) {
        adopted_manual.push_back(n.name);
        st.logic->set_autostart(n.name, true);
      }
    }
    execute(self, st.logic->start());
    for (const auto& name : adopted_manual) st.logic->set_autostart(name, false);
    // Not started at boot (systemctl disable): stopped, not waiting, so that nothing waits on it for nothing.
    for (auto& c : st.children) {
      if (c.is_service() && st.logic->state(c.id()) == behaviours::child_state::stopped && c.last.state == "waiting") {
        c.last = service_report{c.id(), "stopped", 0, "not started at boot (disabled)", {}};
        if (context(self).tracker) self->send(context(self).tracker, c.last);
      }
    }
    for (const auto& n : st.args.node.children) restart_if_stale(self, n.name);
  };
  if (st.args.adopt) {
    std::vector<std::string> names, fingerprints;
    for (const auto& n : st.args.node.children) {
      names.push_back(n.service ? n.name : "");  // a sub-supervisor has no record
      fingerprints.push_back(n.service ? definition_fingerprint(*n.service) : "");
    }
    self->request(context(self).file_io, caf::infinite, adopt_scan_atom_v, my_name(self), std::move(names),
                  std::move(fingerprints))
        .await(begin, [=](caf::error& err) {
          spdlog::error("supervisor {}: the state directory could not be read ({}): nothing is adopted",
                        my_name(self), caf::to_string(err));
          begin(adoption_findings{});
        });
  } else {
    begin(adoption_findings{});
  }

  return {
      [=](const service_report& r) {
        auto* c = find(self, r.name);
        // Reports of an incarnation that already quit come after its exit: keep the final state.
        if (!c || !c->incarnation) return;
        if (c->last.state != r.state) c->state_since = clock::now();
        c->last = r;
        if (r.state == "running" || r.state == "done") {
          resolve(*c, pending_request::kind::start, "started");
          resolve(*c, pending_request::kind::restart, "restarted");
        } else if (r.state == "failed") {
          // A live incarnation reports failed only when blocked: a requirement failed and it waits for that to
          // recover. The start has failed now (systemctl: "A dependency job for x failed").
          resolve(*c, pending_request::kind::start, "", "failed to start " + c->id() + ": " + r.detail);
          resolve(*c, pending_request::kind::restart, "", "failed to restart " + c->id() + ": " + r.detail);
        }
      },
      [=](stop_atom) { begin_stop(self); },
      [=](stop_all_atom) -> caf::result<stopped_atom> {
        auto rp = self->make_response_promise<stopped_atom>();
        self->state.stop_promises.push_back(rp);
        begin_stop(self);
        return rp;
      },
      [=](start_atom, const std::string& name, bool wait) { return operate(self, pending_request::kind::start, name, wait); },
      [=](stop_atom, const std::string& name, bool wait) { return operate(self, pending_request::kind::stop, name, wait); },
      [=](restart_atom, const std::string& name, bool wait) {
        return operate(self, pending_request::kind::restart, name, wait);
      },
      [=](reset_failed_atom, const std::string& name) -> caf::result<bool> {
        child_record* c = find(self, name);
        if (!c || !c->is_service()) return caf::make_error(caf::sec::invalid_argument, "unknown service '" + name + "'");
        if (!self->state.logic->reset_failed(name)) return false;
        c->consecutive_failures = 0;
        c->delay_next = false;
        c->last = service_report{name, "stopped", 0, "reset after failing: " + c->last.detail, {}};
        c->last_exit.clear();  // systemd: reset-failed forgets the Result
        self->send(context(self).tracker, c->last);
        save_history(self);
        spdlog::info("{}: failed state reset; it stays stopped until started", name);
        return true;
      },
      [=](list_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        collect_list(self, rp);
        return rp;
      },
      [=](tree_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        collect_tree(self, rp);
        return rp;
      },
      [=](status_atom, const std::string& name) -> caf::result<std::string> {
        child_record* c = find(self, name);
        if (const child_record* sup = c ? nullptr : failed_supervisor_of(self, name)) {
          return json_text(down_with_its_supervisor(*sup, name));
        }
        if (!c || !c->is_service()) return caf::make_error(caf::sec::invalid_argument, "unknown service '" + name + "'");
        auto rp = self->make_response_promise<std::string>();
        collect_status(self, *c, rp);
        return rp;
      },
      [=](log_sink_atom, const std::string& name) -> caf::result<caf::actor> {
        child_record* c = find(self, name);
        if (!c || !c->is_service()) return caf::make_error(caf::sec::invalid_argument, "unknown service '" + name + "'");
        ensure_log_sink(self, *c);
        return c->log_sink;
      },
      [=](reload_atom, plan_node fresh) -> caf::result<std::string> {
        // From the runtime, to the root: the whole tree, so this is where a service that changes supervisor shows.
        auto rp = self->make_response_promise<std::string>();
        auto moved = moved_services(self->state.args.node, fresh);
        apply_reload(self, std::move(fresh), std::move(moved), rp);
        return rp;
      },
      [=](reload_atom, plan_node fresh, std::vector<std::string> moved) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        apply_reload(self, std::move(fresh), std::move(moved), rp);
        return rp;
      },
      [=](tick_atom, int64_t target) { check_shutdown_deadlines(self, target); },
  };
}

caf::actor spawn_supervisor(caf::event_based_actor* parent, supervisor_args args) {
  args.parent = parent->address();
  return parent->spawn<caf::linked>(supervisor_actor, std::move(args));
}

}  // namespace dynamod
