#include "actors/dependency_tracker_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "actors/exit_reasons.hpp"
#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/console_status.hpp"
#include "runtime/deps/dependency_graph.hpp"
#include "runtime/slow_report.hpp"

namespace dynamod {

namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto kSlowAfter = 5s;  // say what we wait on once a start or stop takes this long
constexpr size_t kSlowLinesAtOnce = 4;

struct service_view {
  std::string state = "waiting";
  std::string detail;
  clock::time_point since = clock::now();
  clock::time_point last_said{};
};

struct subscriber {
  caf::actor incarnation;
  std::vector<std::string> rolled_back_by;  // a failed ordering dependency among these holds it back
  int verdict = -1;
  std::string on;
  clock::time_point since = clock::now();
  std::string why;  // blocked: what the dependency says about itself (it may change, e.g. "gave up: ...")
  // Of its requirements, how many are not ready and how many block (failed, stopped, abandoned), as of the last
  // full evaluation and kept up to date by each report (-1: unknown). While none blocks and some are not ready
  // the verdict is "wait" whatever else changes, so a report need not rescan every requirement: a oneshot that
  // requires a thousand services costs O(1) per report, not O(n).
  int unready = -1;
  int blocking = -1;
};

struct tracker_state {
  std::vector<std::shared_ptr<const service_config>> configs;
  std::unique_ptr<dependency_graph> graph;
  std::map<std::string, std::vector<std::string>> dependents;  // name -> who waits for it (ordered)
  std::map<std::string, std::vector<std::string>> requirers;   // name -> who requires it
  std::map<std::string, dependency_state> states;
  std::map<std::string, service_view> views;
  std::map<std::string, subscriber> waiting;
  // The live incarnation behind each service's last report, monitored: some exits (a kill, a crash, a handover)
  // skip the final report, and a subscriber that died must not stay (a strong handle) in `waiting`.
  std::map<std::string, caf::actor_addr> reporter;
  std::map<caf::actor_addr, std::vector<std::string>> reported_by;  // reverse of `reporter` (may hold stale names)
  std::set<caf::actor_addr> monitored;
  // Who wants every change of a service's state (the D-Bus connections: PropertiesChanged), monitored.
  std::vector<caf::actor> state_watchers;
  runtime_context_ptr context;
  static inline const char* name = "dependency_tracker";
};

using self_ptr = caf::stateful_actor<tracker_state>*;

dependency_state to_dependency_state(const std::string& s) {
  if (s == "running" || s == "done") return dependency_state::ready;
  if (s == "failed") return dependency_state::failed;
  if (s == "stopped") return dependency_state::inactive;
  if (s == "abandoned" || s == "blocked") return dependency_state::abandoned;
  return dependency_state::pending;
}

dependency_state state_of(const tracker_state& st, const std::string& name) {
  auto it = st.states.find(name);
  return it == st.states.end() ? dependency_state::inactive : it->second;
}

void evaluate(self_ptr self, const std::string& name) {
  auto& st = self->state;
  auto it = st.waiting.find(name);
  if (it == st.waiting.end()) return;
  it->second.unready = it->second.blocking = 0;
  for (const auto& r : st.graph->waits_for(name).required) {
    const auto s = state_of(st, r);
    it->second.unready += s != dependency_state::ready;
    it->second.blocking += blocks_requirers(s);
  }
  const auto d = st.graph->can_start(name, st.states, it->second.rolled_back_by);
  const int verdict = d.what == dependency_graph::verdict::wait ? 0 : d.what == dependency_graph::verdict::start ? 1 : 2;
  std::string why;
  if (verdict == 2) {
    auto v = st.views.find(d.on);
    why = v == st.views.end() ? "not configured or disabled" : v->second.detail.empty() ? v->second.state : v->second.detail;
  }
  if (verdict == it->second.verdict && d.on == it->second.on && why == it->second.why) return;
  it->second.verdict = verdict;
  it->second.on = d.on;
  it->second.why = why;
  self->send(it->second.incarnation, deps_atom_v, static_cast<uint8_t>(verdict), d.on, why);
}

bool final_state(const std::string& s) { return s == "stopped" || s == "failed" || s == "abandoned"; }

void watch_incarnation(self_ptr self, const caf::actor_addr& a) {
  auto strong = caf::actor_cast<caf::actor>(a);
  if (!strong || !self->state.monitored.insert(a).second) return;
  self->monitor(strong);  // already gone: CAF sends the down message at once
}

void apply_report(self_ptr self, const service_report& r) {
  auto& st = self->state;
  auto& view = st.views[r.name];
  if (view.state != r.state) {
    view.since = clock::now();
    for (const auto& w : st.state_watchers) self->send(w, unit_event_atom_v, r.name, r.state);
  }
  view.state = r.state;
  view.detail = r.detail;
  const auto before = state_of(st, r.name);
  const auto now = to_dependency_state(r.state);
  st.states[r.name] = now;
  if (auto it = st.requirers.find(r.name); it != st.requirers.end()) {
    for (const auto& d : it->second) {
      auto sub = st.waiting.find(d);
      if (sub == st.waiting.end()) continue;
      auto& s = sub->second;
      if (s.unready >= 0) {
        s.unready += (now != dependency_state::ready) - (before != dependency_state::ready);
        s.blocking += blocks_requirers(now) - blocks_requirers(before);
        if (s.verdict == 0 && s.blocking == 0 && s.unready > 0) continue;  // still waiting: nothing to tell
      }
      evaluate(self, d);
    }
  }
  auto it = st.dependents.find(r.name);
  if (it == st.dependents.end()) return;
  for (const auto& d : it->second) evaluate(self, d);
}

// An incarnation is gone. If it was the one behind its service's state and ended without a final report, the
// state follows its exit reason; a subscription it left is dropped.
void on_incarnation_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto& watchers = st.state_watchers;
  const auto before = watchers.size();
  watchers.erase(std::remove_if(watchers.begin(), watchers.end(), [&](const caf::actor& w) { return w.address() == msg.source; }),
                 watchers.end());
  if (watchers.size() != before) return;
  st.monitored.erase(msg.source);
  for (auto it = st.waiting.begin(); it != st.waiting.end();) {
    it = it->second.incarnation.address() == msg.source ? st.waiting.erase(it) : std::next(it);
  }
  std::vector<std::string> names;
  if (auto by = st.reported_by.find(msg.source); by != st.reported_by.end()) {
    for (const auto& name : by->second) {
      auto r = st.reporter.find(name);
      if (r != st.reporter.end() && r->second == msg.source) names.push_back(name);
    }
    st.reported_by.erase(by);
  }
  for (const auto& name : names) {
    st.reporter.erase(name);
    if (final_state(st.views[name].state)) continue;
    const bool clean = classify(msg.reason) != exit_class::abnormal;
    apply_report(self, service_report{name, clean ? "stopped" : "failed", 0, describe_exit(msg.reason), {}});
  }
}

// Every kSlowAfter, what still waits, in a few lines however many services it is (slow_lines).
void say_what_is_slow(self_ptr self) {
  auto& st = self->state;
  const auto now = clock::now();
  const auto seconds = [&](clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::seconds>(now - since).count();
  };
  std::vector<slow_item> slow;
  for (auto& [name, sub] : st.waiting) {
    if (sub.verdict != 0 || now - sub.since < kSlowAfter) continue;
    auto& view = st.views[name];
    if (now - view.last_said < kSlowAfter) continue;
    view.last_said = now;
    auto dep = st.views.find(sub.on);
    const std::string dep_state = dep == st.views.end() ? "pending" : dep->second.state;
    slow.push_back({name + " is waiting for " + sub.on + " (" + dep_state + ")", seconds(sub.since)});
  }
  for (auto& [name, view] : st.views) {
    if (view.state != "starting" && view.state != "stopping") continue;
    if (now - view.since < kSlowAfter || now - view.last_said < kSlowAfter) continue;
    view.last_said = now;
    slow.push_back({(view.state == "starting" ? "waiting for " + name + " to become ready"
                                              : "waiting for " + name + " to stop") +
                        (view.detail.empty() ? "" : " (" + view.detail + ")"),
                    seconds(view.since)});
  }
  for (const auto& line : slow_lines(std::move(slow), kSlowLinesAtOnce)) st.context->console->waiting(line);
}

}  // namespace

// (Re)builds the graph; states of services that stay are kept, new ones start pending.
static void load_graph(self_ptr self, std::vector<std::shared_ptr<const service_config>> services) {
  auto& st = self->state;
  st.configs = std::move(services);
  st.dependents.clear();
  st.requirers.clear();
  std::vector<const service_config*> raw;
  for (const auto& s : st.configs) raw.push_back(s.get());
  st.graph = std::make_unique<dependency_graph>(raw);
  for (const auto& s : st.configs) {
    st.states.emplace(s->name, dependency_state::pending);
    st.views[s->name];
    const auto& w = st.graph->waits_for(s->name);
    for (const auto& d : w.required) st.requirers[d].push_back(s->name);
    for (const auto& d : w.ordered) st.dependents[d].push_back(s->name);
  }
  for (auto& [name, sub] : st.waiting) {
    sub.verdict = -1;  // the new graph may answer differently
    evaluate(self, name);
  }
}

static caf::behavior dependency_tracker(self_ptr self, std::vector<std::shared_ptr<const service_config>> services,
                                        runtime_context_ptr context) {
  auto& st = self->state;
  st.context = std::move(context);
  load_graph(self, std::move(services));
  self->set_down_handler([=](caf::down_msg& msg) { on_incarnation_down(self, msg); });
  self->delayed_send(self, 1s, tick_atom_v);
  return {
      [=](watch_deps_atom, const std::string& name, std::vector<std::string> rolled_back_by) {
        auto& sub = self->state.waiting[name];
        sub = subscriber{};
        sub.incarnation = caf::actor_cast<caf::actor>(self->current_sender());
        sub.rolled_back_by = std::move(rolled_back_by);
        watch_incarnation(self, caf::actor_cast<caf::actor_addr>(self->current_sender()));
        evaluate(self, name);
      },
      [=](pending_atom, const std::vector<std::string>& names) {
        // A supervisor is about to spawn new incarnations of these (sent before it spawns them, so this comes
        // before anything they send): the previous incarnations' last reports (stopped, failed) no longer
        // count, or a sibling ordered after one of them would start before it in this round.
        auto& st = self->state;
        std::set<std::string> affected;
        for (const auto& name : names) {
          st.reporter.erase(name);  // the previous incarnation's end, if still to come, is not the new one's
          st.states[name] = dependency_state::pending;
          auto& view = st.views[name];
          if (view.state != "waiting") {
            view.since = clock::now();
            for (const auto& w : st.state_watchers) self->send(w, unit_event_atom_v, name, std::string("waiting"));
          }
          view.state = "waiting";
          view.detail.clear();
          for (const auto* index : {&st.dependents, &st.requirers}) {
            auto it = index->find(name);
            if (it != index->end()) affected.insert(it->second.begin(), it->second.end());
          }
        }
        for (const auto& d : affected) evaluate(self, d);
      },
      [=](unwatch_deps_atom, const std::string& name) {
        auto& st = self->state;
        auto it = st.waiting.find(name);
        if (it != st.waiting.end() && it->second.incarnation.address() == self->current_sender()) {
          st.waiting.erase(it);
        }
      },
      [=](const service_report& r) {
        auto& st = self->state;
        if (final_state(r.state)) {
          st.reporter.erase(r.name);  // its last word (from the incarnation, or its supervisor)
        } else if (self->current_sender()) {
          const auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
          auto& known = st.reporter[r.name];
          if (known != from) {
            known = from;
            st.reported_by[from].push_back(r.name);
          }
          watch_incarnation(self, from);
        }
        apply_report(self, r);
      },
      [=](subscribe_atom, const caf::actor& watcher) {
        if (!watcher) return;
        self->monitor(watcher);
        self->state.state_watchers.push_back(watcher);
      },
      [=](tick_atom) {
        say_what_is_slow(self);
        self->delayed_send(self, 1s, tick_atom_v);
      },
      [=](reload_atom, std::vector<std::shared_ptr<const service_config>> services) {
        load_graph(self, std::move(services));
      },
      [=](tree_atom) {
        auto& st = self->state;
        size_t ready = 0;
        for (const auto& [name, s] : st.states) ready += s == dependency_state::ready;
        return json_text(nlohmann::json{{"kind", "dependency_tracker"}, {"name", "boot coordinator"}, {"state", "running"},
                              {"services", st.configs.size()}, {"ready", ready}, {"waiting", st.waiting.size()},
                              {"mailbox", self->mailbox().size()}});
      },
  };
}

caf::actor spawn_dependency_tracker(caf::event_based_actor* parent,
                                    std::vector<std::shared_ptr<const service_config>> services,
                                    runtime_context_ptr context) {
  return parent->spawn<caf::linked>(dependency_tracker, std::move(services), std::move(context));
}

}  // namespace dynamod
