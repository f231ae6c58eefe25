#include "runtime/config/config_loader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "runtime/config/config_parser.hpp"
#include "runtime/config/toml_limits.hpp"
#include "runtime/deps/dependency_graph.hpp"

namespace dynamod {

namespace {

// What a directory entry holds, or why it cannot be had.
struct file_read {
  std::string path;
  std::string text;
  std::string problem;  // empty when text is the file's content
};

std::string errno_text(int err) { return std::strerror(err); }

// Why `st` is no configuration file to read, or "" for a regular file within the size bound.
std::string refuse(const struct stat& st, size_t limit) {
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (static_cast<uint64_t>(st.st_size) > limit) {
    return "the file is too large (" + std::to_string(st.st_size) + " bytes; at most " + std::to_string(limit) + ")";
  }
  return {};
}

// Reads one configuration file without ever blocking or reading without bound. Its type is checked on an O_PATH
// descriptor, which opens nothing (opening a FIFO blocks, opening some devices acts: /dev/watchdog arms the
// watchdog), and the file is then opened through that descriptor, so no rename in between can swap it.
file_read read_config_file(const std::string& path) {
  file_read out{path, {}, {}};
  const size_t limit = toml_limits{}.max_bytes;
  struct stat st {};
  const int handle = ::open(path.c_str(), O_PATH | O_CLOEXEC);
  if (handle < 0) {
    const int err = errno;
    struct stat link {};
    const bool dangling = err == ENOENT && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
    out.problem = (dangling ? "dangling symbolic link: " : "") + errno_text(err);
    return out;
  }
  if (::fstat(handle, &st) < 0) {
    out.problem = errno_text(errno);
  } else {
    out.problem = refuse(st, limit);
  }
  int fd = -1;
  if (out.problem.empty()) {
    const std::string via = "/proc/self/fd/" + std::to_string(handle);
    fd = ::open(via.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);  // no /proc
    if (fd < 0) out.problem = errno_text(errno);
  }
  ::close(handle);
  if (fd < 0) return out;
  if (::fstat(fd, &st) < 0) {
    out.problem = errno_text(errno);
  } else if (out.problem = refuse(st, limit); out.problem.empty()) {
    char buffer[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.problem = errno_text(errno);
        break;
      }
      if (n == 0) break;
      out.text.append(buffer, static_cast<size_t>(n));
      if (out.text.size() > limit) {  // it grew while we read
        out.problem = "the file is too large (more than " + std::to_string(limit) + " bytes)";
        break;
      }
    }
  }
  ::close(fd);
  if (!out.problem.empty()) out.text.clear();
  return out;
}

// The *.toml files of `dir` in name order (hidden ones, such as editors' lock files, are skipped), each read or
// with the reason it could not be. A directory that does not exist has no files; one that cannot be read is an error.
std::vector<file_read> read_toml_files(const std::string& dir, config_errors& errors) {
  std::vector<file_read> files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno != ENOENT) errors.push_back({dir, 0, 0, "", "cannot read the directory: " + errno_text(errno)});
    return files;
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) errors.push_back({dir, 0, 0, "", "cannot read the directory: " + errno_text(errno)});
      break;
    }
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || name.size() <= 5 || name.compare(name.size() - 5, 5, ".toml") != 0) continue;
    names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) files.push_back(read_config_file(dir + "/" + name));
  return files;
}

// The service's name as declared in a file that failed to parse, so dependents can say why they wait.
std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

constexpr size_t kMaxSupervisorDepth = 32;

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
      if (seen.size() >= kMaxSupervisorDepth) {
        // Bounded, so a chain of thousands of files neither walks quadratically nor nests actors without end.
        auto pos = s.positions["supervisor.parent"];
        tree.errors.push_back({s.file, pos.first, pos.second, "supervisor.parent",
                               "supervisors are nested more than " + std::to_string(kMaxSupervisorDepth) +
                                   " levels below root"});
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
  // Cycles make every member unstartable. Each is reported once, in the file of its first member, with a bounded
  // text: a ring of thousands of services gives one line, not one per member with the whole ring in it.
  {
    std::vector<const service_config*> all;
    for (const auto& n : order) all.push_back(&by_name.at(n));
    dependency_graph graph{all};
    const auto cycles = graph.cycles();
    size_t members = 0;
    for (const auto& cycle : cycles) {
      const auto& first = by_name.at(cycle[0]);
      const size_t size = cycle.size() - 1;
      members += size;
      tree.errors.push_back({first.file, 0, 0, "dependencies",
                             "dependency cycle of " + std::to_string(size) + " services: " + format_cycle(cycle)});
      for (size_t i = 0; i < size; ++i) {
        tree.disabled[cycle[i]] = "on a dependency cycle of " + std::to_string(size) + " services (see " +
                                  first.file + ")";
      }
    }
    if (cycles.size() > 1) {
      tree.errors.push_back({"", 0, 0, "", std::to_string(cycles.size()) + " dependency cycles in all, " +
                                               std::to_string(members) + " services disabled by them"});
    }
  }
  // Disabled requirements disable their dependents, transitively, through a worklist over reverse edges (linear
  // in the chain). Each reason names the requirement and the root cause once: nesting the requirement's own
  // reason grew quadratically along a chain of thousands.
  {
    std::map<std::string, std::vector<std::string>> required_by;
    for (auto& [name, s] : by_name) {
      for (const auto& r : s.requires_) required_by[r].push_back(name);
    }
    std::map<std::string, std::string> root_cause;
    std::vector<std::string> todo;
    for (const auto& [name, why] : tree.disabled) {
      root_cause[name] = why;
      todo.push_back(name);
    }
    for (auto& [name, s] : by_name) {
      if (tree.disabled.count(name)) continue;
      for (const auto& r : s.requires_) {
        if (!by_name.count(r) && !tree.disabled.count(r)) {
          tree.disabled[name] = root_cause[name] = "requires unknown service '" + r + "'";
          todo.push_back(name);
          break;
        }
      }
    }
    while (!todo.empty()) {
      const std::string r = std::move(todo.back());
      todo.pop_back();
      for (const auto& dependent : required_by[r]) {
        if (tree.disabled.count(dependent)) continue;
        tree.disabled[dependent] = "requires '" + r + "', which is disabled (" + root_cause[r] + ")";
        root_cause[dependent] = root_cause[r];
        todo.push_back(dependent);
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

config_tree load_config_texts(const std::vector<config_text>& supervisor_files,
                              const std::vector<config_text>& service_files, config_errors errors,
                              std::map<std::string, std::string> disabled) {
  std::vector<supervisor_config> sups;
  for (const auto& f : supervisor_files) {
    if (auto s = parse_supervisor(f.text, f.path, errors)) sups.push_back(std::move(*s));
  }
  std::vector<service_config> services;
  for (const auto& f : service_files) {
    const size_t before = errors.size();
    if (auto s = parse_service(f.text, f.path, errors)) {
      services.push_back(std::move(*s));
    } else if (errors.size() > before) {
      // Dependents name the broken service by its file's stem (the naming convention).
      disabled.emplace(stem(f.path), "its file " + f.path + " has errors");
    }
  }
  return check_config_tree(std::move(services), std::move(sups), std::move(errors), std::move(disabled));
}

void pull_in_requirements(std::vector<service_config>& services) {
  std::map<std::string, service_config*> by_name;
  for (auto& s : services) by_name[s.name] = &s;
  std::vector<service_config*> todo;
  for (auto& s : services) {
    if (s.start_at_boot) todo.push_back(&s);
  }
  while (!todo.empty()) {  // each service is pushed at most once more (when it is pulled in): linear
    service_config* s = todo.back();
    todo.pop_back();
    for (const auto* list : {&s->requires_, &s->wants}) {
      for (const auto& name : *list) {
        auto it = by_name.find(name);
        if (it == by_name.end() || it->second->start_at_boot) continue;
        it->second->start_at_boot = true;
        todo.push_back(it->second);
      }
    }
  }
}

std::string manual_start_marker(const std::string& config_dir, const std::string& service) {
  return config_dir + "/manual/" + service;
}

bool manual_start_marked(const std::string& config_dir, const std::string& service) {
  struct stat st {};
  return ::lstat(manual_start_marker(config_dir, service).c_str(), &st) == 0;
}

config_tree load_config_tree(const std::string& dir) {
  config_errors errors;
  std::map<std::string, std::string> disabled;
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) {
    errors.push_back({dir, 0, 0, "", "cannot read the configuration directory: " + errno_text(errno)});
  } else if (!S_ISDIR(st.st_mode)) {
    errors.push_back({dir, 0, 0, "", "the configuration directory is not a directory"});
  }
  auto read_all = [&](const std::string& sub) {
    std::vector<config_text> texts;
    for (auto& f : read_toml_files(dir + "/" + sub, errors)) {
      if (f.problem.empty()) {
        texts.push_back({std::move(f.path), std::move(f.text)});
        continue;
      }
      errors.push_back({f.path, 0, 0, "", "cannot read the file: " + f.problem});
      // A service that requires it says which file and why, not "unknown service".
      if (sub == "services") disabled.emplace(stem(f.path), "its file " + f.path + " cannot be read (" + f.problem + ")");
    }
    return texts;
  };
  auto sups = read_all("supervisors");
  auto services = read_all("services");
  config_tree tree = load_config_texts(sups, services, std::move(errors), std::move(disabled));
  for (auto& s : tree.services) s.enabled = s.start_at_boot = !manual_start_marked(dir, s.name);
  pull_in_requirements(tree.services);
  return tree;
}

}  // namespace dynamod
