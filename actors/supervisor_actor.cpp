#include "actors/supervisor_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

#include "actors/exit_reasons.hpp"
#include "actors/log_sink_actor.hpp"
#include "actors/messages.hpp"
#include "actors/service_actor.hpp"
#include "behaviours/supervisor_logic.hpp"
#include "runtime/config/value_parsers.hpp"
#include "runtime/console_status.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using behaviours::command;
constexpr auto kBackoffForgiveness = 60s;  // an incarnation up this long resets its backoff

struct child_record {
  plan_node node;
  caf::actor incarnation;  // strong handle: an unreferenced idle actor would be collected (CAF)
  caf::actor log_sink;
  service_report last;
  int starts = 0;
  int restarts = 0;
  std::string last_exit;
  clock::time_point started_at{};
  int consecutive_failures = 0;
  bool delay_next = false;  // the next start restarts it after its own exit: apply its restart delay
  std::optional<adoption_record> adopt;
  bool is_service() const { return node.what == plan_node::kind::service; }
  const std::string& id() const { return node.name; }
};

struct supervisor_state {
  supervisor_args args;
  std::unique_ptr<behaviours::supervisor_logic> logic;
  std::vector<child_record> children;
  std::vector<caf::response_promise> stop_promises;
  bool stopping = false;
  static inline const char* name = "supervisor";
};

using self_ptr = caf::stateful_actor<supervisor_state>*;

const std::string& my_name(self_ptr self) { return self->state.args.node.name; }
const runtime_context& context(self_ptr self) { return *self->state.args.context; }

child_record* find(self_ptr self, const std::string& id) {
  for (auto& c : self->state.children) {
    if (c.id() == id) return &c;
  }
  return nullptr;
}

child_record* find_by_address(self_ptr self, const caf::actor_addr& a) {
  for (auto& c : self->state.children) {
    if (c.incarnation && c.incarnation.address() == a) return &c;
  }
  return nullptr;
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

behaviours::child_spec spec_for(const plan_node& n) {
  behaviours::child_spec s;
  s.id = n.name;
  if (n.service) {
    const auto& c = *n.service;
    s.restart = c.restart == restart_policy::transient   ? behaviours::restart_type::transient
                : c.restart == restart_policy::temporary ? behaviours::restart_type::temporary
                                                         : behaviours::restart_type::permanent;
    s.own_limit = behaviours::intensity_limit{
        c.max_restarts, static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(c.max_restart_window).count())};
  }
  s.depends_on = n.needs;
  // Supervisors are permanent children (OTP's default), with no limit of their own.
  return s;
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
    service_args a{c.node.service, delay, std::exchange(c.adopt, std::nullopt), c.node.waits, self->state.args.context,
                   caf::actor_cast<caf::actor>(self)};
    c.incarnation = spawn_service(self, std::move(a));
    c.last = service_report{c.id(), "waiting", 0, delay.count() > 0 ? "restart delay" : "", c.last.status_text};
  } else {
    // Only the first start after a runtime restart adopts; a restart (escalation) begins afresh.
    c.incarnation = spawn_supervisor(self, supervisor_args{c.node, self->state.args.context, self->state.args.adopt && !restart});
    c.last = service_report{c.id(), "running", 0, {}, {}};
  }
}

void execute(self_ptr self, const std::vector<command>& cmds) {
  for (const auto& cmd : cmds) {
    switch (cmd.what) {
      case command::kind::start:
        if (auto* c = find(self, cmd.child)) start_child(self, *c);
        break;
      case command::kind::terminate:
        if (auto* c = find(self, cmd.child); c && c->incarnation) self->send(c->incarnation, stop_atom_v);
        break;
      case command::kind::exit: {
        auto& st = self->state;
        if (cmd.note == "shutdown") {
          spdlog::info("supervisor {}: all children stopped", my_name(self));
          for (auto& p : st.stop_promises) p.deliver(stopped_atom_v);
          st.stop_promises.clear();
          self->quit(make_error(service_exit::shutdown));
        } else {
          // OTP: a supervisor that gives up exits with `shutdown`; its parent applies its own strategy.
          spdlog::error("supervisor {} gave up: {}", my_name(self), cmd.note);
          context(self).console->failed("Supervisor " + my_name(self) + " gave up: " + cmd.note + ".");
          self->quit(make_error(service_exit::escalated, my_name(self) + ": " + cmd.note));
        }
        return;
      }
    }
  }
}

void on_child_exit(self_ptr self, child_record& c, const caf::error& reason) {
  auto& st = self->state;
  c.incarnation = nullptr;
  c.last_exit = describe_exit(reason);
  c.last.state = classify(reason) == exit_class::abnormal ? "failed" : "stopped";
  c.last.pid = 0;
  c.last.detail = c.last_exit;
  if (st.logic->state(c.id()) == behaviours::child_state::terminating) {
    spdlog::info("{}: stopped ({})", c.id(), c.last_exit);
    if (c.is_service()) context(self).console->ok("Stopped " + c.id() + ".");
    execute(self, st.logic->on_terminated(c.id()));
    return;
  }
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
}

void begin_stop(self_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  execute(self, st.logic->shutdown());
}

void collect_list(self_ptr self, caf::response_promise promise) {
  auto& st = self->state;
  auto rp = std::make_shared<caf::response_promise>(std::move(promise));
  auto result = std::make_shared<nlohmann::json>(nlohmann::json::array());
  std::vector<caf::actor> subs;
  for (const auto& c : st.children) {
    if (!c.is_service()) {
      if (c.incarnation) subs.push_back(c.incarnation);
      continue;
    }
    const auto& cfg = *c.node.service;
    result->push_back({{"name", c.id()},
                       {"supervisor", my_name(self)},
                       {"state", c.last.state},
                       {"pid", c.last.pid},
                       {"restarts", c.restarts},
                       {"last_exit", c.last_exit},
                       {"detail", c.last.detail},
                       {"status_text", c.last.status_text},
                       {"type", to_string(cfg.type)},
                       {"readiness", to_string(cfg.readiness)}});
  }
  if (subs.empty()) {
    rp->deliver(result->dump());
    return;
  }
  auto pending = std::make_shared<size_t>(subs.size());
  for (const auto& sub : subs) {
    auto merge = [=](const std::string& json) {
      auto part = nlohmann::json::parse(json, nullptr, false);
      if (part.is_array()) {
        for (auto& e : part) result->push_back(e);
      }
      if (--*pending == 0) rp->deliver(result->dump());
    };
    self->request(sub, std::chrono::seconds(10), list_atom_v)
        .then(merge, [=](caf::error&) { merge("[]"); });
  }
}

}  // namespace

static caf::behavior supervisor_actor(self_ptr self, supervisor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  const auto& cfg = *st.args.node.supervisor;
  std::vector<behaviours::child_spec> specs;
  for (auto& n : st.args.node.children) {
    specs.push_back(spec_for(n));
    child_record r;
    r.node = n;
    r.last = service_report{n.name, "waiting", 0, {}, {}};
    if (st.args.adopt && n.service) {
      r.adopt = adoption_store{st.args.context->paths.state_dir + "/services"}.load_live(n.name);
    }
    st.children.push_back(std::move(r));
  }
  st.logic = std::make_unique<behaviours::supervisor_logic>(
      to_logic(cfg.strategy),
      behaviours::intensity_limit{cfg.max_restarts,
                                  static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(cfg.max_restart_window).count())},
      std::move(specs), behaviours::termination_order::by_dependencies);

  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (auto* c = find_by_address(self, msg.source)) {
      on_child_exit(self, *c, msg.reason);
      return;
    }
    for (auto& c : self->state.children) {
      if (c.log_sink && c.log_sink.address() == msg.source) {
        spdlog::error("log sink of {} failed: {}; starting a new one", c.id(), caf::to_string(msg.reason));
        c.log_sink = nullptr;
        ensure_log_sink(self, c);
        return;
      }
    }
    // Not a child: our parent. A parent that dies abnormally takes us along at once (no orderly stop: the
    // processes keep running, so that the next runtime can adopt them).
    if (msg.reason) self->quit(msg.reason);
  });

  execute(self, st.logic->start());

  return {
      [=](const service_report& r) {
        if (auto* c = find(self, r.name)) {
          // Reports of an incarnation that already quit come after its exit: keep the final state.
          if (c->incarnation) c->last = r;
        }
      },
      [=](stop_atom) { begin_stop(self); },
      [=](stop_all_atom) -> caf::result<stopped_atom> {
        auto rp = self->make_response_promise<stopped_atom>();
        self->state.stop_promises.push_back(rp);
        begin_stop(self);
        return rp;
      },
      [=](list_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        collect_list(self, rp);
        return rp;
      },
  };
}

caf::actor spawn_supervisor(caf::event_based_actor* parent, supervisor_args args) {
  return parent->spawn<caf::linked>(supervisor_actor, std::move(args));
}

}  // namespace dynamod
