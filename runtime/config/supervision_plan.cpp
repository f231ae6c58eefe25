#include "runtime/config/supervision_plan.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "runtime/deps/dependency_graph.hpp"

namespace dynamod {

namespace {

void collect_services(const plan_node& n, std::set<std::string>& out) {
  if (n.what == plan_node::kind::service) out.insert(n.name);
  for (const auto& c : n.children) collect_services(c, out);
}

// Orders one supervisor's children: child X after child Y if a service under X waits for one under Y.
void order_children(plan_node& sup, const dependency_graph& graph, const std::map<std::string, size_t>& rank) {
  for (auto& c : sup.children) {
    if (c.what == plan_node::kind::supervisor) order_children(c, graph, rank);
  }
  const size_t n = sup.children.size();
  std::vector<std::set<std::string>> members(n);
  std::vector<size_t> key(n, 0);  // tie-break: the latest-starting service in the subtree, then the name
  for (size_t i = 0; i < n; ++i) {
    collect_services(sup.children[i], members[i]);
    for (const auto& s : members[i]) key[i] = std::max(key[i], rank.at(s) + 1);
    if (members[i].empty()) key[i] = SIZE_MAX;
  }
  std::map<std::string, size_t> owner;
  for (size_t i = 0; i < n; ++i) {
    for (const auto& s : members[i]) owner[s] = i;
  }
  std::vector<std::set<size_t>> after(n);  // after[i]: children i must follow
  for (size_t i = 0; i < n; ++i) {
    for (const auto& s : members[i]) {
      const auto& w = graph.waits_for(s);
      for (const auto* list : {&w.required, &w.ordered}) {
        for (const auto& d : *list) {
          auto it = owner.find(d);
          if (it != owner.end() && it->second != i) after[i].insert(it->second);
        }
      }
    }
  }
  // Kahn's algorithm; when only cycles remain (mutual needs between subtrees) the key decides.
  std::vector<size_t> order;
  std::vector<bool> placed(n, false);
  auto less = [&](size_t a, size_t b) {
    return key[a] != key[b] ? key[a] < key[b] : sup.children[a].name < sup.children[b].name;
  };
  while (order.size() < n) {
    std::vector<size_t> ready;
    for (size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      bool free = std::all_of(after[i].begin(), after[i].end(), [&](size_t j) { return placed[j]; });
      if (free) ready.push_back(i);
    }
    if (ready.empty()) {
      for (size_t i = 0; i < n; ++i) {
        if (!placed[i]) ready.push_back(i);
      }
    }
    const size_t next = *std::min_element(ready.begin(), ready.end(), less);
    placed[next] = true;
    order.push_back(next);
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j : after[i]) sup.children[i].needs.push_back(sup.children[j].name);
  }
  std::vector<plan_node> sorted;
  for (size_t i : order) sorted.push_back(std::move(sup.children[i]));
  sup.children = std::move(sorted);
}

}  // namespace

plan_node make_supervision_plan(config_tree&& tree) {
  std::map<std::string, plan_node> sups;
  for (const auto& s : tree.supervisors) {
    plan_node n;
    n.what = plan_node::kind::supervisor;
    n.name = s.name;
    n.supervisor = std::make_shared<const supervisor_config>(s);
    sups.emplace(s.name, std::move(n));
  }
  std::vector<std::shared_ptr<const service_config>> services;
  for (auto& s : tree.services) {
    plan_node n;
    n.name = s.name;
    const std::string supervisor = s.supervisor;
    s.positions = {};  // only error messages of the checks, done by now; a few hundred bytes per service
    n.service = std::make_shared<const service_config>(std::move(s));
    services.push_back(n.service);
    sups.at(supervisor).children.push_back(std::move(n));
  }
  // Attach supervisors to their parents, deepest first (names are unique, parents were checked and nesting is
  // bounded by check_config_tree).
  std::map<std::string, std::vector<std::string>> children_of;
  for (const auto& s : tree.supervisors) {
    if (s.name != "root") children_of[s.parent].push_back(s.name);
  }
  std::function<plan_node(const std::string&)> build = [&](const std::string& name) -> plan_node {
    plan_node n = std::move(sups.at(name));
    for (const auto& child : children_of[name]) n.children.push_back(build(child));
    return n;
  };
  plan_node root = build("root");

  std::vector<const service_config*> all;
  for (const auto& s : services) all.push_back(s.get());
  dependency_graph graph{all};
  std::map<std::string, size_t> rank;
  const auto order = graph.start_order();
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  order_children(root, graph, rank);
  std::function<void(plan_node&)> mark = [&](plan_node& n) {
    if (n.service) {
      const auto& w = graph.waits_for(n.name);
      n.waits = !w.required.empty() || !w.ordered.empty();
    }
    for (auto& c : n.children) mark(c);
  };
  mark(root);
  return root;
}

std::vector<std::shared_ptr<const service_config>> services_in_order(const plan_node& root) {
  std::vector<std::shared_ptr<const service_config>> out;
  std::function<void(const plan_node&)> walk = [&](const plan_node& n) {
    if (n.service) out.push_back(n.service);
    for (const auto& c : n.children) walk(c);
  };
  walk(root);
  return out;
}

}  // namespace dynamod
