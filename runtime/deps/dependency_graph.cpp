#include "runtime/deps/dependency_graph.hpp"

#include <algorithm>
#include <functional>
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
    const auto st = state_of(r);
    if (st == dependency_state::failed || st == dependency_state::inactive) return {verdict::blocked, r};
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
  // Tarjan's strongly connected components; every component with more than one node is a cycle.
  const size_t n = names_.size();
  std::vector<int> index(n, -1), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> components;
  int counter = 0;
  std::function<void(size_t)> strong = [&](size_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    for (size_t w : edges_[v]) {
      if (index[w] < 0) {
        strong(w);
        low[v] = std::min(low[v], low[w]);
      } else if (on_stack[w]) {
        low[v] = std::min(low[v], index[w]);
      }
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
  };
  for (size_t v = 0; v < n; ++v) {
    if (index[v] < 0) strong(v);
  }
  std::vector<std::vector<std::string>> out;
  for (const auto& component : components) {
    std::set<size_t> members(component.begin(), component.end());
    size_t start = *std::min_element(component.begin(), component.end(),
                                     [&](size_t a, size_t b) { return names_[a] < names_[b]; });
    // Walk inside the component until we come back to the start: a concrete cycle to print.
    std::vector<size_t> path{start};
    std::set<size_t> seen{start};
    std::function<bool(size_t)> walk = [&](size_t v) -> bool {
      std::vector<size_t> next;
      for (size_t w : edges_[v]) {
        if (members.count(w)) next.push_back(w);
      }
      std::sort(next.begin(), next.end(), [&](size_t a, size_t b) { return names_[a] < names_[b]; });
      for (size_t w : next) {
        if (w == start) return true;
        if (seen.count(w)) continue;
        seen.insert(w);
        path.push_back(w);
        if (walk(w)) return true;
        path.pop_back();
      }
      return false;
    };
    walk(start);
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

std::string format_cycle(const std::vector<std::string>& cycle) {
  std::string out;
  for (const auto& c : cycle) out += (out.empty() ? "" : " -> ") + c;
  return out;
}

}  // namespace dynamod
