#include "dbus/unit_view_json.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <set>

#include "dbus/unit_names.hpp"

namespace dynamod::dbus {

namespace {

std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>()
         : it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0 ? static_cast<uint64_t>(it->get<int64_t>())
                                                                              : 0;
}

std::optional<uint64_t> figure(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return number(j, key);
}

// `ms` milliseconds before now, on both clocks; "never" when the time is not known.
timestamps ago(clock_now now, uint64_t ms) {
  const uint64_t us = ms * 1000;
  if (us >= now.monotonic) return {now.realtime, 1};
  return {now.realtime - us, now.monotonic - us};
}

bool is_up(dynamod_state s) {
  return s == dynamod_state::running || s == dynamod_state::starting || s == dynamod_state::stopping;
}

}  // namespace

clock_now current_time() {
  timespec rt{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &rt);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return {static_cast<uint64_t>(rt.tv_sec) * 1000000 + static_cast<uint64_t>(rt.tv_nsec) / 1000,
          static_cast<uint64_t>(mono.tv_sec) * 1000000 + static_cast<uint64_t>(mono.tv_nsec) / 1000};
}

unit_view service_view(const nlohmann::json& service, clock_now now) {
  unit_view v;
  if (!service.is_object()) return v;
  const std::string name = text(service, "name");
  v.unit = unit_of_service(name);
  v.state = parse_dynamod_state(text(service, "state"));
  v.description = "dynamod service " + name;
  v.fragment_path = text(service, "file");
  if (auto e = service.find("enabled"); e != service.end() && e->is_boolean()) v.enabled = e->get<bool>();
  v.service_type = text(service, "type");
  v.main_pid = static_cast<uint32_t>(number(service, "pid"));
  v.restarts = static_cast<uint32_t>(number(service, "restarts"));
  v.last_exit = text(service, "last_exit");
  v.detail = text(service, "detail");
  v.status_text = text(service, "status_text");
  if (v.status_text.empty() && v.state == dynamod_state::failed) v.status_text = v.detail;
  if (auto it = service.find("log"); it != service.end() && it->is_array()) {
    for (const auto& line : *it) {
      if (line.is_string()) v.log.push_back(line.get<std::string>());
    }
  }
  if (auto cg = service.find("cgroup"); cg != service.end() && cg->is_object()) {
    v.control_group = text(*cg, "cgroup");
    v.memory_current = figure(*cg, "memory_current");
    v.memory_max = figure(*cg, "memory_max");
    v.tasks_current = figure(*cg, "pids_current");
    v.tasks_max = figure(*cg, "pids_max");
    if (auto cpu = figure(*cg, "cpu_usage_usec")) v.cpu_usage_nsec = *cpu * 1000;
  }
  const timestamps since = ago(now, number(service, "since_ms"));
  if (is_up(v.state)) {
    const timestamps started = ago(now, number(service, "uptime_ms"));
    v.inactive_exit = v.exec_main_start = started;
    if (v.state == dynamod_state::running) v.active_enter = since;
  } else if (v.state != dynamod_state::unknown && v.state != dynamod_state::disabled &&
             v.state != dynamod_state::waiting) {
    v.inactive_enter = v.exec_main_exit = since;
  }
  return v;
}

unit_view target_view(const std::string& supervisor, bool failed) {
  unit_view v;
  v.unit = unit_of_supervisor(supervisor);
  v.supervisor = true;
  v.description = "dynamod supervisor " + supervisor;
  v.state = failed ? dynamod_state::failed : dynamod_state::running;
  return v;
}

std::vector<unit_view> units_of_list(const nlohmann::json& list, clock_now now) {
  std::vector<unit_view> out;
  if (!list.is_array()) return out;
  std::vector<std::string> supervisors;
  std::set<std::string> seen;
  for (const auto& s : list) {
    out.push_back(service_view(s, now));
    const std::string sup = s.is_object() ? text(s, "supervisor") : std::string();
    if (!sup.empty() && seen.insert(sup).second) supervisors.push_back(sup);
  }
  for (const auto& sup : supervisors) out.push_back(target_view(sup, false));
  return out;
}

}  // namespace dynamod::dbus
