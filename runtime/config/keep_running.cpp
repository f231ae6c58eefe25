#include "runtime/config/keep_running.hpp"

#include <algorithm>
#include <functional>

namespace dynamod {

namespace {

struct previous {
  std::map<std::string, const service_config*> services;
  std::map<std::string, const supervisor_config*> supervisors;
};

void collect(const plan_node& n, previous& out) {
  if (n.service) out.services.emplace(n.name, n.service.get());
  if (n.supervisor) out.supervisors.emplace(n.name, n.supervisor.get());
  for (const auto& c : n.children) collect(c, out);
}

}  // namespace

std::map<std::string, std::string> keep_running_definitions(config_tree& fresh, const plan_node& current) {
  previous old;
  collect(current, old);
  auto has_service = [&](const std::string& name) {
    return std::any_of(fresh.services.begin(), fresh.services.end(),
                       [&](const service_config& s) { return s.name == name; });
  };
  auto has_supervisor = [&](const std::string& name) {
    return std::any_of(fresh.supervisors.begin(), fresh.supervisors.end(),
                       [&](const supervisor_config& s) { return s.name == name; });
  };
  // A kept service needs its supervisor chain; a supervisor whose file broke keeps its old settings too.
  std::function<bool(const std::string&)> ensure_supervisor = [&](const std::string& name) {
    if (has_supervisor(name)) return true;
    auto it = old.supervisors.find(name);
    if (it == old.supervisors.end()) return false;
    if (name != "root" && !ensure_supervisor(it->second->parent)) return false;
    fresh.supervisors.push_back(*it->second);
    return true;
  };

  std::map<std::string, std::string> kept;
  // Requirements of kept services may be kept services themselves: repeat until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto it = fresh.disabled.begin(); it != fresh.disabled.end();) {
      auto prev = old.services.find(it->first);
      if (prev == old.services.end() || has_service(it->first)) {
        ++it;
        continue;
      }
      const service_config& s = *prev->second;
      const bool requirements_met =
          std::all_of(s.requires_.begin(), s.requires_.end(), [&](const std::string& r) { return has_service(r); });
      if (!requirements_met || !ensure_supervisor(s.supervisor)) {
        ++it;
        continue;
      }
      fresh.services.push_back(s);
      kept.emplace(it->first, "kept running with its previous definition: " + it->second);
      it = fresh.disabled.erase(it);
      changed = true;
    }
  }
  return kept;
}

}  // namespace dynamod
