#include "dbus/unit_properties.hpp"

namespace dynamod::dbus {

namespace {

void add(std::vector<property>& out, const char* interface, const char* name, property_value v) {
  out.push_back({interface, name, std::move(v)});
}

void add_unit_common(std::vector<property>& out, const std::string& unit, const std::string& description,
                     const unit_state& st, const std::string& fragment, const std::string& file_state) {
  add(out, kUnitInterface, "Id", unit);
  add(out, kUnitInterface, "Names", std::vector<std::string>{unit});
  add(out, kUnitInterface, "Description", description);
  add(out, kUnitInterface, "LoadState", st.load_state);
  add(out, kUnitInterface, "ActiveState", st.active_state);
  add(out, kUnitInterface, "FreezerState", std::string("running"));
  add(out, kUnitInterface, "SubState", st.sub_state);
  add(out, kUnitInterface, "Following", std::string());
  add(out, kUnitInterface, "FragmentPath", fragment);
  add(out, kUnitInterface, "SourcePath", std::string());
  add(out, kUnitInterface, "DropInPaths", std::vector<std::string>{});
  add(out, kUnitInterface, "Documentation", std::vector<std::string>{});
  add(out, kUnitInterface, "UnitFileState", file_state);
  add(out, kUnitInterface, "UnitFilePreset", std::string(file_state.empty() ? "" : "enabled"));
  add(out, kUnitInterface, "Triggers", std::vector<std::string>{});
  add(out, kUnitInterface, "TriggeredBy", std::vector<std::string>{});
  add(out, kUnitInterface, "NeedDaemonReload", false);
  add(out, kUnitInterface, "Transient", false);
  add(out, kUnitInterface, "CanStart", st.load_state == "loaded");
  add(out, kUnitInterface, "CanStop", st.load_state == "loaded");
  add(out, kUnitInterface, "CanReload", false);
  add(out, kUnitInterface, "ConditionResult", true);
  add(out, kUnitInterface, "AssertResult", true);
}

void add_timestamps(std::vector<property>& out, const char* interface, const char* name, const timestamps& t) {
  add(out, interface, name, t.realtime);
  add(out, interface, (std::string(name) + "Monotonic").c_str(), t.monotonic);
}

}  // namespace

const char* dbus_signature(const property_value& v) {
  switch (v.index()) {
    case 0: return "b";
    case 1: return "i";
    case 2: return "u";
    case 3: return "t";
    case 4: return "s";
    default: return "as";
  }
}

std::vector<property> unit_properties(const unit_view& view) {
  std::vector<property> out;
  const unit_state st = view.supervisor ? target_unit_state(view.state) : service_unit_state(view.state);
  if (st.load_state == "not-found") return not_found_unit_properties(view.unit);
  add_unit_common(out, view.unit, view.description.empty() ? view.unit : view.description, st, view.fragment_path,
                  view.enabled ? "enabled" : "disabled");
  add_timestamps(out, kUnitInterface, "InactiveExitTimestamp", view.inactive_exit);
  add_timestamps(out, kUnitInterface, "ActiveEnterTimestamp", view.active_enter);
  add_timestamps(out, kUnitInterface, "ActiveExitTimestamp", view.active_exit);
  add_timestamps(out, kUnitInterface, "InactiveEnterTimestamp", view.inactive_enter);
  if (view.supervisor) return out;

  const exit_summary exit = summarize_exit(view.last_exit, view.detail);
  add(out, kServiceInterface, "Type", view.service_type.empty() ? std::string("simple") : view.service_type);
  add(out, kServiceInterface, "Result", exit.result);
  add(out, kServiceInterface, "MainPID", view.main_pid);
  add(out, kServiceInterface, "ControlPID", uint32_t{0});
  add(out, kServiceInterface, "ExecMainPID", view.main_pid);
  add_timestamps(out, kServiceInterface, "ExecMainStartTimestamp", view.exec_main_start);
  add_timestamps(out, kServiceInterface, "ExecMainExitTimestamp", view.exec_main_exit);
  add(out, kServiceInterface, "ExecMainCode", exit.code);
  add(out, kServiceInterface, "ExecMainStatus", exit.status);
  add(out, kServiceInterface, "StatusText", view.status_text);
  add(out, kServiceInterface, "StatusErrno", int32_t{0});
  add(out, kServiceInterface, "NRestarts", view.restarts);
  add(out, kServiceInterface, "PIDFile", std::string());
  add(out, kServiceInterface, "RuntimeMaxUSec", kNotShown);
  add(out, kServiceInterface, "LogNamespace", std::string());
  add(out, kServiceInterface, "ControlGroup", view.control_group);
  add(out, kServiceInterface, "MemoryCurrent", view.memory_current.value_or(kNotShown));
  add(out, kServiceInterface, "MemoryMax", view.memory_max.value_or(kNotShown));
  add(out, kServiceInterface, "TasksCurrent", view.tasks_current.value_or(kNotShown));
  add(out, kServiceInterface, "TasksMax", view.tasks_max.value_or(kNotShown));
  add(out, kServiceInterface, "CPUUsageNSec", view.cpu_usage_nsec.value_or(kNotShown));
  return out;
}

std::vector<property> not_found_unit_properties(const std::string& unit) {
  std::vector<property> out;
  add_unit_common(out, unit, unit, service_unit_state(dynamod_state::unknown), "", "");
  return out;
}

std::optional<std::vector<property>> properties_of(const std::vector<property>& all, const std::string& interface,
                                                   bool is_service) {
  if (!interface.empty() && interface != kUnitInterface && !(is_service && interface == kServiceInterface)) {
    return std::nullopt;
  }
  std::vector<property> out;
  for (const auto& p : all) {
    if (interface.empty() || p.interface == interface) out.push_back(p);
  }
  return out;
}

}  // namespace dynamod::dbus
