#include "runtime/deps/dependency_graph.hpp"

#include <algorithm>
#include <queue>
#include <set>

#include "runtime/config/service_config.hpp"

namespace dynamod {

namespace {
void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}
}  // namespace

dependency_graph::dependency_graph(const std::vector<const service_config*>& services) {
  for (const service_config* s : services) {
    index_.emplace(s->name, names_.size());
    names_.push_back(s->name);
  }
  waits_.resize(names_.size());
  for (size_t i = 0; i < services.size(); ++i) {
    const service_config& s = *services[i];
    for (const auto& r : s.requires_) add_unique(waits_[i].required, r);
    for (const auto* list : {&s.wants, &s.after}) {
      for (const auto& d : *list) {
        if (std::find(waits_[i].required.begin(), waits_[i].required.end(), d) == waits_[i].required.end()) {
          add_unique(waits_[i].ordered, d);
        }
      }
    }
  }
  // "a before b" is "b after a".
  for (const service_config* s : services) {
    for (const auto& b : s->before) {
      auto it = index_.find(b);
      if (it == index_.end()) continue;
      auto& w = waits_[it->second];
      if (std::find(w.required.begin(), w.required.end(), s->name) == w.required.end()) add_unique(w.ordered, s->name);
    }
  }
  edges_.resize(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const auto* list : {&waits_[i].required, &waits_[i].ordered}) {
      for (const auto& d : *list) {
        auto it = index_.find(d);
        if (it != index_.end()) edges_[i].push_back(it->second);
      }
    }
  }
}

const dependency_graph::waits& dependency_graph::waits_for(const std::string& name) const {
  static const waits none;
  auto it = index_.find(name);
  return it == index_.end() ? none : waits_[it->second];
}

std::vector<std::string> dependency_graph::required_by(const std::string& name) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < names_.size(); ++i) {
    const auto& r = waits_[i].required;
    if (std::find(r.begin(), r.end(), name) != r.end()) out.push_back(names_[i]);
  }
  return out;
}

dependency_graph::decision dependency_graph::can_start(const std::string& name,
                                                       const std::map<std::string, dependency_state>& states,
                                                       const std::vector<std::string>& rolled_back_by) const {
  auto state_of = [&](const std::string& n) {
    auto it = states.find(n);
    return it == states.end() ? dependency_state::inactive : it->second;
  };
  const waits& w = waits_for(name);
  // A failed requirement blocks at once, even while others are still pending.
  for (const auto& r : w.required) {
    if (blocks_requirers(state_of(r))) return {verdict::blocked, r};
  }
  for (const auto& r : w.required) {
    if (state_of(r) != dependency_state::ready) return {verdict::wait, r};
  }
  for (const auto& o : w.ordered) {
    const auto st = state_of(o);
    if (st == dependency_state::pending) return {verdict::wait, o};
    const bool rolls_back =
        std::find(rolled_back_by.begin(), rolled_back_by.end(), o) != rolled_back_by.end();
    if (st == dependency_state::failed && rolls_back) return {verdict::wait, o};
  }
  return {verdict::start, {}};
}

std::vector<std::string> dependency_graph::frontier(const std::vector<std::string>& candidates,
                                                    const std::map<std::string, dependency_state>& states) const {
  std::vector<std::string> out;
  for (const auto& c : candidates) {
    if (can_start(c, states).what == verdict::start) out.push_back(c);
  }
  return out;
}

std::vector<std::vector<std::string>> dependency_graph::cycles() const {
  // Tarjan's strongly connected components, iteratively (a ring of thousands of services must not exhaust
  // the stack); every component with more than one node is a cycle.
  const size_t n = names_.size();
  std::vector<int> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> components;
  int counter = 0;
  struct frame {
    size_t v;
    size_t next_edge;
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<frame> calls{{root, 0}};
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!calls.empty()) {
      frame& f = calls.back();
      const size_t v = f.v;
      if (f.next_edge < edges_[v].size()) {
        const size_t w = edges_[v][f.next_edge++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          calls.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<size_t> component;
        size_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        if (component.size() > 1) components.push_back(component);
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().v] = std::min(low[calls.back().v], low[v]);
    }
  }
  std::vector<std::vector<std::string>> out;
  auto by_name = [&](size_t a, size_t b) { return names_[a] < names_[b]; };
  for (const auto& component : components) {
    std::set<size_t> members(component.begin(), component.end());
    const size_t start = *std::min_element(component.begin(), component.end(), by_name);
    // A depth-first walk inside the component back to the start: a concrete cycle to print.
    std::vector<size_t> path{start};
    std::vector<std::vector<size_t>> choices;  // per path element: the members still to try from it
    std::set<size_t> seen{start};
    auto next_of = [&](size_t v) {
      std::vector<size_t> next;
      for (size_t w : edges_[v]) {
        if (members.count(w)) next.push_back(w);
      }
      std::sort(next.begin(), next.end(), [&](size_t a, size_t b) { return by_name(b, a); });  // pop smallest
      return next;
    };
    choices.push_back(next_of(start));
    bool closed = false;
    while (!choices.empty() && !closed) {
      auto& options = choices.back();
      if (options.empty()) {
        choices.pop_back();
        path.pop_back();
        continue;
      }
      const size_t w = options.back();
      options.pop_back();
      if (w == start) {
        closed = true;
      } else if (!seen.count(w)) {
        seen.insert(w);
        path.push_back(w);
        choices.push_back(next_of(w));
      }
    }
    std::vector<std::string> cycle;
    for (size_t v : path) cycle.push_back(names_[v]);
    cycle.push_back(names_[start]);
    out.push_back(cycle);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> dependency_graph::start_order() const {
  const size_t n = names_.size();
  std::vector<size_t> pending(n, 0);                  // unmet dependencies
  std::vector<std::vector<size_t>> dependents(n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j : edges_[i]) {
      ++pending[i];
      dependents[j].push_back(i);
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;  // tie-break: given order
  for (size_t i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<std::string> order;
  std::vector<bool> placed(n, false);
  while (!ready.empty()) {
    const size_t v = ready.top();
    ready.pop();
    placed[v] = true;
    order.push_back(names_[v]);
    for (size_t d : dependents[v]) {
      if (--pending[d] == 0) ready.push(d);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!placed[i]) order.push_back(names_[i]);
  }
  return order;
}

std::string format_cycle(const std::vector<std::string>& cycle, size_t max_names) {
  std::string out;
  const size_t members = cycle.empty() ? 0 : cycle.size() - 1;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (members > max_names && i == max_names - 1) {
      out += " -> ... (" + std::to_string(members - max_names + 1) + " more)";
      i = cycle.size() - 1;  // close the ring with its first name
    }
    out += (out.empty() ? "" : " -> ") + cycle[i];
  }
  return out;
}

}  // namespace dynamod
