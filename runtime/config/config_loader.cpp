#include "runtime/config/config_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/config/config_parser.hpp"
#include "runtime/deps/dependency_graph.hpp"

namespace dynamod {

namespace {

std::vector<std::string> toml_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool read_text(const std::string& path, std::string& out, config_errors& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back({path, 0, 0, "", "cannot read the file"});
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// The service's name as declared in a file that failed to parse, so dependents can say why they wait.
std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

config_error at(const service_config& s, const std::string& key, std::string message) {
  auto it = s.positions.find(key);
  const auto pos = it == s.positions.end() ? std::pair<int, int>{0, 0} : it->second;
  return {s.file, pos.first, pos.second, key, std::move(message)};
}

}  // namespace

config_tree check_config_tree(std::vector<service_config> services, std::vector<supervisor_config> supervisors,
                              config_errors errors, std::map<std::string, std::string> disabled) {
  config_tree tree;
  tree.errors = std::move(errors);
  tree.disabled = std::move(disabled);

  // Supervisors: unique names, an implicit root, parents that exist, no parent cycles.
  std::map<std::string, supervisor_config> sups;
  for (auto& s : supervisors) {
    if (sups.count(s.name)) {
      tree.errors.push_back({s.file, 0, 0, "supervisor.name", "supervisor '" + s.name + "' is already defined in " +
                                                                  sups[s.name].file});
      continue;
    }
    sups.emplace(s.name, s);
  }
  if (!sups.count("root")) {
    supervisor_config root;
    root.name = "root";
    root.parent.clear();
    sups.emplace("root", root);
  }
  std::set<std::string> bad_sups;
  for (auto& [name, s] : sups) {
    if (name == "root") continue;
    if (!sups.count(s.parent)) {
      auto pos = s.positions["supervisor.parent"];
      tree.errors.push_back({s.file, pos.first, pos.second, "supervisor.parent", "unknown supervisor '" + s.parent + "'"});
      bad_sups.insert(name);
      continue;
    }
    std::set<std::string> seen{name};
    for (std::string p = s.parent; p != "root";) {
      if (seen.count(p)) {
        tree.errors.push_back({s.file, 0, 0, "supervisor.parent", "supervisor parents form a cycle through '" + p + "'"});
        bad_sups.insert(name);
        break;
      }
      seen.insert(p);
      auto it = sups.find(p);
      if (it == sups.end()) break;
      p = it->second.parent;
    }
  }
  // A supervisor below a bad one is unreachable too.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& [name, s] : sups) {
      if (name != "root" && !bad_sups.count(name) && bad_sups.count(s.parent)) {
        bad_sups.insert(name);
        changed = true;
      }
    }
  }

  // Services: unique names, an existing supervisor.
  std::map<std::string, service_config> by_name;
  std::vector<std::string> order;
  for (auto& s : services) {
    if (by_name.count(s.name)) {
      tree.errors.push_back({s.file, 0, 0, "service.name", "service '" + s.name + "' is already defined in " +
                                                               by_name[s.name].file});
      continue;
    }
    if (sups.count(s.name)) {
      tree.errors.push_back({s.file, 0, 0, "service.name", "'" + s.name + "' is already the name of a supervisor"});
      tree.disabled[s.name] = "its name is taken by a supervisor";
      continue;
    }
    if (!sups.count(s.supervisor) || bad_sups.count(s.supervisor)) {
      tree.errors.push_back(at(s, "service.supervisor", (sups.count(s.supervisor) ? "supervisor '" + s.supervisor +
                                                                                        "' is disabled"
                                                                                  : "unknown supervisor '" +
                                                                                        s.supervisor + "'")));
      tree.disabled[s.name] = "supervisor '" + s.supervisor + "' is unavailable";
      continue;
    }
    order.push_back(s.name);
    by_name.emplace(s.name, std::move(s));
  }

  // Requirements must exist and be enabled; a disabled requirement disables its dependents, transitively.
  for (auto& [name, s] : by_name) {
    for (const auto& r : s.requires_) {
      if (!by_name.count(r) && !tree.disabled.count(r)) {
        tree.errors.push_back(at(s, "dependencies.requires", "unknown service '" + r + "'"));
      }
    }
  }
  // Cycles make every member unstartable.
  {
    std::vector<const service_config*> all;
    for (const auto& n : order) all.push_back(&by_name.at(n));
    dependency_graph graph{all};
    for (const auto& cycle : graph.cycles()) {
      const std::string text = format_cycle(cycle);
      for (size_t i = 0; i + 1 < cycle.size(); ++i) {
        const auto& s = by_name.at(cycle[i]);
        tree.errors.push_back({s.file, 0, 0, "dependencies", "dependency cycle: " + text});
        tree.disabled[cycle[i]] = "dependency cycle: " + text;
      }
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& [name, s] : by_name) {
      if (tree.disabled.count(name)) continue;
      for (const auto& r : s.requires_) {
        auto d = tree.disabled.find(r);
        if (d != tree.disabled.end()) {
          tree.disabled[name] = "requires '" + r + "', which is disabled (" + d->second + ")";
          changed = true;
          break;
        }
        if (!by_name.count(r)) {
          tree.disabled[name] = "requires unknown service '" + r + "'";
          changed = true;
          break;
        }
      }
    }
  }

  tree.services.reserve(order.size());  // no growth copies of a thousand configs during start-up
  for (const auto& n : order) {
    if (!tree.disabled.count(n)) tree.services.push_back(std::move(by_name.at(n)));
  }
  tree.supervisors.push_back(sups.at("root"));
  for (auto& [name, s] : sups) {
    if (name != "root" && !bad_sups.count(name)) tree.supervisors.push_back(s);
  }
  return tree;
}

config_tree load_config_tree(const std::string& dir) {
  config_errors errors;
  std::map<std::string, std::string> disabled;
  std::vector<supervisor_config> sups;
  for (const auto& f : toml_files(dir + "/supervisors")) {
    std::string text;
    if (!read_text(f, text, errors)) continue;
    if (auto s = parse_supervisor(text, f, errors)) sups.push_back(std::move(*s));
  }
  std::vector<service_config> services;
  for (const auto& f : toml_files(dir + "/services")) {
    std::string text;
    if (!read_text(f, text, errors)) continue;
    const size_t before = errors.size();
    if (auto s = parse_service(text, f, errors)) {
      services.push_back(std::move(*s));
    } else if (errors.size() > before) {
      // Dependents name the broken service by its file's stem (the naming convention).
      disabled[stem(f)] = "its file " + f + " has errors";
    }
  }
  return check_config_tree(std::move(services), std::move(sups), std::move(errors), std::move(disabled));
}

}  // namespace dynamod
