#include "runtime/cgroup/cgroup_settings.hpp"

#include <sstream>

namespace dynamod {

namespace {

std::string limit_text(const optional_limit& l) { return l.is_max ? "max" : std::to_string(l.bytes); }

}  // namespace

std::vector<std::pair<std::string, std::string>> cgroup_settings(const service_config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  // memory.high before memory.max: lowering both at once never passes through high > max.
  if (c.memory_high.set) out.emplace_back("memory.high", limit_text(c.memory_high));
  if (c.memory_max.set) out.emplace_back("memory.max", limit_text(c.memory_max));
  if (c.memory_swap_max.set) out.emplace_back("memory.swap.max", limit_text(c.memory_swap_max));
  if (c.cpu_weight) out.emplace_back("cpu.weight", std::to_string(*c.cpu_weight));
  if (!c.cpu_max.empty()) out.emplace_back("cpu.max", c.cpu_max);
  if (c.pids_max) out.emplace_back("pids.max", *c.pids_max < 0 ? "max" : std::to_string(*c.pids_max));
  if (c.io_weight) out.emplace_back("io.weight", "default " + std::to_string(*c.io_weight));
  for (const auto& line : c.io_max) out.emplace_back("io.max", line);
  return out;
}

std::vector<std::string> controllers_to_enable(const std::string& available) {
  std::vector<std::string> out;
  std::istringstream in(available);
  std::string name;
  while (in >> name) {
    if (name == "cpu" || name == "io" || name == "memory" || name == "pids") out.push_back(name);
  }
  return out;
}

std::map<std::string, uint64_t> parse_flat_keyed(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    uint64_t value = 0;
    if (fields >> key >> value) out[key] = value;
  }
  return out;
}

std::optional<uint64_t> parse_limit(const std::string& text) {
  if (text.rfind("max", 0) == 0) return std::nullopt;
  try {
    return std::stoull(text);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string> unified_cgroup(const std::string& proc_pid_cgroup) {
  std::istringstream in(proc_pid_cgroup);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return std::nullopt;
}

}  // namespace dynamod
