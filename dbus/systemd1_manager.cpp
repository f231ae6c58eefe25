// org.freedesktop.systemd1.Manager at /org/freedesktop/systemd1: the verbs systemctl uses (../shared/spec/dbus.md
// §2), carried out by the runtime (list, status, start/stop/restart through the job runner, reload, shutdown).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/systemd1_unit_files.hpp"
#include "dbus/unit_names.hpp"
#include "dbus/unit_view_json.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";
constexpr auto kRuntimeTimeout = std::chrono::seconds(10);

bus_state& state_of(void* userdata) { return *static_cast<bus_state*>(userdata); }

// systemd's answer to an invalid name, before anything else is looked at.
bool check_unit_name(sd_bus_message* m, const char* name, sd_bus_error* error) {
  if (parse_unit_name(name)) return true;
  // A hostile name can be long: it is not sent back whole (at most its first 255 bytes).
  sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unit name %.255s%s is not valid.", name,
                    strlen(name) > 255 ? "..." : "");
  (void)m;
  return false;
}

const unit_view* find_unit(const std::vector<unit_view>& units, const std::string& unit) {
  for (const auto& u : units) {
    if (u.unit == unit && u.state != dynamod_state::unknown) return &u;
  }
  return nullptr;
}

unit_state state_of_view(const unit_view& v) {
  return v.supervisor ? target_unit_state(v.state) : service_unit_state(v.state);
}

int reply_unit_list(sd_bus_message* call, const std::vector<unit_view>& units) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(call, &reply);
  if (r < 0) return r;
  r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
  for (size_t i = 0; r >= 0 && i < units.size(); ++i) {
    const auto& u = units[i];
    const unit_state s = state_of_view(u);
    const std::string path = unit_object_path(u.unit);
    const std::string description = u.description.empty() ? u.unit : u.description;
    r = sd_bus_message_append(reply, "(ssssssouso)", u.unit.c_str(), description.c_str(), s.load_state.c_str(),
                              s.active_state.c_str(), s.sub_state.c_str(), "", path.c_str(), uint32_t{0}, "", "/");
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

bool matches_state(const unit_view& u, const std::vector<std::string>& states) {
  if (states.empty()) return true;
  const unit_state s = state_of_view(u);
  for (const auto& want : states) {
    if (want == s.load_state || want == s.active_state || want == s.sub_state) return true;
  }
  return false;
}

bool matches_pattern(const unit_view& u, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (unit_pattern_matches(p, u.unit)) return true;
  }
  return false;
}

// ListUnits, ListUnitsFiltered, ListUnitsByPatterns, ListUnitsByNames share this.
void list_units(bus_state& st, sd_bus_message* m, std::vector<std::string> states, std::vector<std::string> patterns,
                std::vector<std::string> names) {
  auto call = keep(m);
  bus_state* s = &st;
  with_units(st, [s, call, states, patterns, names](std::vector<unit_view> units) {
    std::vector<unit_view> out;
    if (!names.empty()) {
      for (const auto& n : names) {
        if (!parse_unit_name(n)) continue;
        if (const auto* u = find_unit(units, n)) {
          out.push_back(*u);
        } else {
          unit_view missing;
          missing.unit = n;
          out.push_back(missing);
        }
      }
    } else {
      for (auto& u : units) {
        if (matches_state(u, states) && matches_pattern(u, patterns)) out.push_back(std::move(u));
      }
    }
    reply_unit_list(call.get(), out);
    pump(*s);
  });
}

int method_list_units(sd_bus_message* m, void* ud, sd_bus_error*) {
  list_units(state_of(ud), m, {}, {}, {});
  return 1;
}

int method_list_units_filtered(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> states;
  int r = read_string_array(m, states, error);
  if (r < 0) return r;
  list_units(state_of(ud), m, std::move(states), {}, {});
  return 1;
}

int method_list_units_by_patterns(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> states, patterns;
  int r = read_string_array(m, states, error);
  if (r >= 0) r = read_string_array(m, patterns, error);
  if (r < 0) return r;
  list_units(state_of(ud), m, std::move(states), std::move(patterns), {});
  return 1;
}

int method_list_units_by_names(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  int r = read_string_array(m, names, error);
  if (r < 0) return r;
  list_units(state_of(ud), m, {}, {}, std::move(names));
  return 1;
}

int method_load_unit(sd_bus_message* m, void*, sd_bus_error* error) {
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  return sd_bus_reply_method_return(m, "o", unit_object_path(name).c_str());
}

int method_get_unit(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  auto call = keep(m);
  bus_state* s = &state_of(ud);
  const std::string unit = name;
  with_units(*s, [s, call, unit](std::vector<unit_view> units) {
    if (find_unit(units, unit)) {
      sd_bus_reply_method_return(call.get(), "o", unit_object_path(unit).c_str());
    } else {
      reply_error(call.get(), kNoSuchUnit, "Unit " + unit + " not loaded.");
    }
    pump(*s);
  });
  return 1;
}

int method_get_unit_by_pid(sd_bus_message* m, void* ud, sd_bus_error*) {
  uint32_t pid = 0;
  int r = sd_bus_message_read(m, "u", &pid);
  if (r < 0) return r;
  auto call = keep(m);
  bus_state* s = &state_of(ud);
  with_units(*s, [s, call, pid](std::vector<unit_view> units) {
    const unit_view* found = nullptr;
    for (const auto& u : units) {
      if (pid != 0 && u.main_pid == pid) found = &u;
    }
    if (found) {
      sd_bus_reply_method_return(call.get(), "o", unit_object_path(found->unit).c_str());
    } else {
      reply_error(call.get(), "org.freedesktop.systemd1.NoUnitForPID",
                  "PID " + std::to_string(pid) + " does not belong to any loaded unit.");
    }
    pump(*s);
  });
  return 1;
}

bool valid_job_mode(const std::string& mode) {
  static const std::set<std::string> modes{"replace", "fail", "isolate", "ignore-dependencies", "ignore-requirements",
                                           "flush", "replace-irreversibly", "triggering", "restart-dependencies"};
  return modes.count(mode) != 0;
}

// poweroff.target, reboot.target, halt.target: systemctl's fallback when logind does not answer.
std::optional<protocol::power_mode> power_target(const std::string& unit) {
  if (unit == "poweroff.target") return protocol::power_mode::poweroff;
  if (unit == "reboot.target" || unit == "ctrl-alt-del.target") return protocol::power_mode::reboot;
  if (unit == "halt.target") return protocol::power_mode::halt;
  return std::nullopt;
}

void shut_down(bus_state& st, protocol::power_mode mode, const std::string& why) {
  spdlog::info("dbus: {} requested ({})", to_string(mode), why);
  st.self->send(st.args.ctx->runtime, shutdown_atom_v, static_cast<uint8_t>(mode));
}

// StartUnit & co: (s name, s mode) -> o job.
int unit_job(sd_bus_message* m, void* ud, sd_bus_error* error, const char* type) {
  const char* name = nullptr;
  const char* mode = nullptr;
  int r = sd_bus_message_read(m, "ss", &name, &mode);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  if (!valid_job_mode(mode)) {
    sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Job mode %.64s invalid.", mode);
    return -EINVAL;
  }
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string unit = name;
  const std::string job_type = type;
  require_root(*s, m, [s, call, unit, job_type] {
    if (auto power = power_target(unit); power && job_type == "start") {
      // The job is the shutdown itself; the system goes down before it could end.
      sd_bus_reply_method_return(call.get(), "o", "/org/freedesktop/systemd1/job/0");
      pump(*s);
      shut_down(*s, *power, "StartUnit " + unit);
      return;
    }
    with_units(*s, [s, call, unit, job_type](std::vector<unit_view> units) {
      const unit_view* u = find_unit(units, unit);
      if (!u) {
        reply_error(call.get(), kNoSuchUnit,
                    "Unit " + unit + (job_type == "stop" ? " not loaded." : " not found."));
        pump(*s);
        return;
      }
      if (job_type == "reload") {
        reply_error(call.get(), "org.freedesktop.systemd1.JobTypeNotApplicable",
                    "Job type reload is not applicable for unit " + unit + ".");
        pump(*s);
        return;
      }
      if (u->supervisor) {
        // A supervisor runs while the runtime does; its children are what one starts and stops.
        reply_error(call.get(), "org.freedesktop.systemd1.JobTypeNotApplicable",
                    "Job type " + job_type + " is not applicable for unit " + unit +
                        " (a dynamod supervisor: start or stop its services).");
        pump(*s);
        return;
      }
      s->self->request(s->args.jobs, kRuntimeTimeout, job_start_atom_v, unit, job_type)
          .then(
              [s, call](uint32_t id) {
                sd_bus_reply_method_return(call.get(), "o", ("/org/freedesktop/systemd1/job/" + std::to_string(id)).c_str());
                pump(*s);
              },
              [s, call](caf::error& err) {
                reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
                pump(*s);
              });
    });
  });
  return 1;
}

int method_start_unit(sd_bus_message* m, void* ud, sd_bus_error* e) { return unit_job(m, ud, e, "start"); }
int method_stop_unit(sd_bus_message* m, void* ud, sd_bus_error* e) { return unit_job(m, ud, e, "stop"); }
int method_reload_unit(sd_bus_message* m, void* ud, sd_bus_error* e) { return unit_job(m, ud, e, "reload"); }
int method_restart_unit(sd_bus_message* m, void* ud, sd_bus_error* e) { return unit_job(m, ud, e, "restart"); }
int method_try_restart_unit(sd_bus_message* m, void* ud, sd_bus_error* e) { return unit_job(m, ud, e, "try-restart"); }

int method_kill_unit(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* name = nullptr;
  const char* whom = nullptr;
  int32_t signo = 0;
  int r = sd_bus_message_read(m, "ssi", &name, &whom, &signo);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  const std::string who = whom;
  if (who != "" && who != "all" && who != "main" && who != "control") {
    sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid who argument: %.64s", whom);
    return -EINVAL;
  }
  if (signo <= 0 || signo >= _NSIG) {
    sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Signal number out of range.");
    return -EINVAL;
  }
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string unit = name;
  require_root(*s, m, [s, call, unit, who, signo] {
    with_units(*s, [s, call, unit, who, signo](std::vector<unit_view> units) {
      const unit_view* u = find_unit(units, unit);
      if (!u) {
        reply_error(call.get(), kNoSuchUnit, "Unit " + unit + " not loaded.");
      } else if (u->main_pid == 0 || who == "control") {
        reply_error(call.get(), "org.freedesktop.systemd1.NoSuchProcess", "No main process to kill");
      } else {
        // A service is the leader of its own session and process group (setsid at spawn): "all" is that group.
        const pid_t target = who == "main" ? static_cast<pid_t>(u->main_pid) : -static_cast<pid_t>(u->main_pid);
        if (::kill(target, signo) < 0 && errno != ESRCH) {
          reply_error(call.get(), SD_BUS_ERROR_FAILED, std::string("kill: ") + strerror(errno));
        } else {
          spdlog::info("dbus: signal {} to {} ({} {})", signo, unit, who.empty() ? "all" : who, u->main_pid);
          sd_bus_reply_method_return(call.get(), "");
        }
      }
      pump(*s);
    });
  });
  return 1;
}

int method_reload(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call] {
    sd_bus_emit_signal(s->bus, kManagerPath, "org.freedesktop.systemd1.Manager", "Reloading", "b", 1);
    s->self->request(s->args.ctx->runtime, std::chrono::seconds(90), reload_atom_v)
        .then(
            [s, call](const std::string&) {
              sd_bus_emit_signal(s->bus, kManagerPath, "org.freedesktop.systemd1.Manager", "Reloading", "b", 0);
              sd_bus_reply_method_return(call.get(), "");
              pump(*s);
            },
            [s, call](caf::error& err) {
              reply_error(call.get(), SD_BUS_ERROR_FAILED, "reload failed: " + caf::to_string(err));
              pump(*s);
            });
  });
  return 1;
}

int power_method(sd_bus_message* m, void* ud, protocol::power_mode mode) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call, mode] {
    sd_bus_reply_method_return(call.get(), "");
    pump(*s);
    shut_down(*s, mode, sd_bus_message_get_member(call.get()));
  });
  return 1;
}

int method_power_off(sd_bus_message* m, void* ud, sd_bus_error*) { return power_method(m, ud, protocol::power_mode::poweroff); }
int method_reboot(sd_bus_message* m, void* ud, sd_bus_error*) { return power_method(m, ud, protocol::power_mode::reboot); }
int method_halt(sd_bus_message* m, void* ud, sd_bus_error*) { return power_method(m, ud, protocol::power_mode::halt); }

int method_subscribe(sd_bus_message* m, void*, sd_bus_error*) {
  // Job and unit signals go to every connection anyway (systemd does so on private connections).
  return sd_bus_reply_method_return(m, "");
}

int method_list_jobs(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  s->self->request(s->args.jobs, kRuntimeTimeout, job_list_atom_v)
      .then(
          [s, call](const std::vector<std::string>& flat) {
            sd_bus_message* reply = nullptr;
            int r = sd_bus_message_new_method_return(call.get(), &reply);
            if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(usssoo)");
            for (size_t i = 0; r >= 0 && i + 2 < flat.size(); i += 3) {
              const auto id = static_cast<uint32_t>(std::stoul(flat[i]));
              r = sd_bus_message_append(reply, "(usssoo)", id, flat[i + 1].c_str(), flat[i + 2].c_str(), "running",
                                        ("/org/freedesktop/systemd1/job/" + flat[i]).c_str(),
                                        unit_object_path(flat[i + 1]).c_str());
            }
            if (r >= 0) r = sd_bus_message_close_container(reply);
            if (r >= 0) sd_bus_send(nullptr, reply, nullptr);
            sd_bus_message_unref(reply);
            pump(*s);
          },
          [s, call](caf::error& err) {
            reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
            pump(*s);
          });
  return 1;
}

int method_cancel_job(sd_bus_message* m, void* ud, sd_bus_error*) {
  uint32_t id = 0;
  int r = sd_bus_message_read(m, "u", &id);
  if (r < 0) return r;
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call, id] {
    s->self->request(s->args.jobs, kRuntimeTimeout, job_cancel_atom_v, id)
        .then(
            [s, call, id](bool known) {
              if (known) {
                sd_bus_reply_method_return(call.get(), "");
              } else {
                reply_error(call.get(), "org.freedesktop.systemd1.NoSuchJob", "Job " + std::to_string(id) + " does not exist.");
              }
              pump(*s);
            },
            [s, call](caf::error& err) {
              reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
              pump(*s);
            });
  });
  return 1;
}

int method_get_unit_processes(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  auto unit = dynamod_name_of(name);
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  if (!unit || unit->supervisor) return reply_error(m, kNoSuchUnit, std::string("Unit ") + name + " not loaded.");
  s->self->request(s->args.ctx->runtime, kRuntimeTimeout, status_atom_v, unit->name)
      .then(
          [s, call](const std::string& json) {
            const unit_view v = service_view(nlohmann::json::parse(json, nullptr, false), current_time());
            std::vector<std::pair<std::string, uint32_t>> procs;
            if (!v.control_group.empty()) {
              std::ifstream in("/sys/fs/cgroup" + v.control_group + "/cgroup.procs");
              for (uint32_t pid = 0; in >> pid;) procs.emplace_back(v.control_group, pid);
            } else if (v.main_pid != 0) {
              procs.emplace_back("", v.main_pid);
            }
            sd_bus_message* reply = nullptr;
            int r = sd_bus_message_new_method_return(call.get(), &reply);
            if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(sus)");
            for (size_t i = 0; r >= 0 && i < procs.size() && i < 4096; ++i) {
              std::ifstream cmd("/proc/" + std::to_string(procs[i].second) + "/cmdline");
              std::string line((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
              for (auto& c : line) c = c == '\0' ? ' ' : c;
              while (!line.empty() && line.back() == ' ') line.pop_back();
              r = sd_bus_message_append(reply, "(sus)", procs[i].first.c_str(), procs[i].second, line.c_str());
            }
            if (r >= 0) r = sd_bus_message_close_container(reply);
            if (r >= 0) sd_bus_send(nullptr, reply, nullptr);
            sd_bus_message_unref(reply);
            pump(*s);
          },
          [s, call](caf::error&) {
            reply_error(call.get(), kNoSuchUnit, "Unit not loaded.");
            pump(*s);
          });
  return 1;
}

int method_get_unit_file_state(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  if (!check_unit_name(m, name, error)) return -EINVAL;
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string unit = name;
  with_units(*s, [s, call, unit](std::vector<unit_view> units) {
    const unit_view* u = find_unit(units, unit);
    if (!u) {
      reply_error(call.get(), "org.freedesktop.DBus.Error.FileNotFound", "No such file or directory");
    } else {
      sd_bus_reply_method_return(call.get(), "s", u->supervisor ? "static" : u->enabled ? "enabled" : "disabled");
    }
    pump(*s);
  });
  return 1;
}

int method_list_unit_files(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  with_units(*s, [s, call](std::vector<unit_view> units) {
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call.get(), &reply);
    if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(ss)");
    for (size_t i = 0; r >= 0 && i < units.size(); ++i) {
      const auto& u = units[i];
      const std::string path = s->args.ctx->paths.config_dir + "/" + u.unit;
      r = sd_bus_message_append(reply, "(ss)", path.c_str(), u.supervisor ? "static" : u.enabled ? "enabled" : "disabled");
    }
    if (r >= 0) r = sd_bus_message_close_container(reply);
    if (r >= 0) sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    pump(*s);
  });
  return 1;
}

int method_get_default_target(sd_bus_message* m, void*, sd_bus_error*) {
  return sd_bus_reply_method_return(m, "s", "default.target");
}

// Properties: from what the connection knows now (the runtime's list at its start, the tracker's reports since).
std::string architecture() {
  utsname u{};
  if (::uname(&u) < 0) return "";
  const std::string machine = u.machine;
  if (machine == "x86_64") return "x86-64";
  if (machine == "aarch64") return "arm64";
  if (machine.size() == 4 && machine[0] == 'i' && machine.substr(2) == "86") return "x86";
  return machine;
}

std::string virtualization() {
  std::ifstream in("/sys/class/dmi/id/sys_vendor");
  std::string vendor;
  std::getline(in, vendor);
  if (vendor.find("QEMU") != std::string::npos) return "qemu";
  if (vendor.find("VMware") != std::string::npos) return "vmware";
  if (vendor.find("innotek") != std::string::npos) return "oracle";
  if (vendor.find("Microsoft") != std::string::npos) return "microsoft";
  return "";
}

int get_string(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  auto& st = state_of(ud);
  const std::string p = property;
  std::string v;
  if (p == "Version") {
    v = "dynamod";
  } else if (p == "Features") {
    v = "+DYNAMOD";
  } else if (p == "Virtualization") {
    v = virtualization();
  } else if (p == "Architecture") {
    v = architecture();
  } else if (p == "SystemState") {
    size_t failed = 0, starting = 0;
    for (const auto& [name, state] : st.service_states) {
      failed += state == "failed";
      starting += state == "starting" || state == "waiting";
    }
    v = failed ? "degraded" : starting ? "starting" : "running";
  } else if (p == "ControlGroup") {
    v = st.args.ctx->cgroup_base.empty() ? "" : "/dynamod";
  } else if (p == "DefaultStandardOutput") {
    v = "journal";
  }
  return sd_bus_message_append(reply, "s", v.c_str());
}

int get_count(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  auto& st = state_of(ud);
  const std::string p = property;
  uint32_t n = 0;
  if (p == "NNames") {
    n = static_cast<uint32_t>(st.service_states.size());
  } else if (p == "NFailedUnits") {
    for (const auto& [name, state] : st.service_states) n += state == "failed";
  }
  return sd_bus_message_append(reply, "u", n);
}

int get_zero_usec(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "t", uint64_t{0});
}

int get_empty_strv(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "as", 0);
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Features", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Virtualization", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Architecture", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Tainted", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("SystemState", "s", get_string, 0, 0),
    SD_BUS_PROPERTY("ControlGroup", "s", get_string, 0, 0),
    SD_BUS_PROPERTY("DefaultStandardOutput", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("NNames", "u", get_count, 0, 0),
    SD_BUS_PROPERTY("NFailedUnits", "u", get_count, 0, 0),
    SD_BUS_PROPERTY("NJobs", "u", get_count, 0, 0),
    SD_BUS_PROPERTY("UserspaceTimestamp", "t", get_zero_usec, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("UserspaceTimestampMonotonic", "t", get_zero_usec, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Environment", "as", get_empty_strv, 0, 0),
    SD_BUS_METHOD("GetUnit", "s", "o", method_get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("LoadUnit", "s", "o", method_load_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetUnitByPID", "u", "o", method_get_unit_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUnits", "", "a(ssssssouso)", method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUnitsFiltered", "as", "a(ssssssouso)", method_list_units_filtered, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUnitsByPatterns", "asas", "a(ssssssouso)", method_list_units_by_patterns, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUnitsByNames", "as", "a(ssssssouso)", method_list_units_by_names, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartUnit", "ss", "o", method_start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopUnit", "ss", "o", method_stop_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReloadUnit", "ss", "o", method_reload_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RestartUnit", "ss", "o", method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TryRestartUnit", "ss", "o", method_try_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReloadOrRestartUnit", "ss", "o", method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReloadOrTryRestartUnit", "ss", "o", method_try_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("KillUnit", "ssi", "", method_kill_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetUnitProcesses", "s", "a(sus)", method_get_unit_processes, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListJobs", "", "a(usssoo)", method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("CancelJob", "u", "", method_cancel_job, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Subscribe", "", "", method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Unsubscribe", "", "", method_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reexecute", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("PowerOff", "", "", method_power_off, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Reboot", "", "", method_reboot, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Halt", "", "", method_halt, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetUnitFileState", "s", "s", method_get_unit_file_state, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListUnitFiles", "", "a(ss)", method_list_unit_files, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetDefaultTarget", "", "s", method_get_default_target, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("EnableUnitFiles", "asbb", "ba(sss)", method_enable_unit_files, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReenableUnitFiles", "asbb", "ba(sss)", method_enable_unit_files, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("EnableUnitFilesWithFlags", "ast", "ba(sss)", method_enable_unit_files_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("DisableUnitFiles", "asb", "a(sss)", method_disable_unit_files, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("DisableUnitFilesWithFlags", "ast", "a(sss)", method_disable_unit_files_with_flags, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("DisableUnitFilesWithFlagsAndInstallInfo", "ast", "ba(sss)", method_disable_unit_files_with_info,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ResetFailedUnit", "s", "", method_reset_failed_unit, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ResetFailed", "", "", method_reset_failed, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("UnitNew", "so", 0),
    SD_BUS_SIGNAL("UnitRemoved", "so", 0),
    SD_BUS_SIGNAL("JobNew", "uos", 0),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_SIGNAL("StartupFinished", "tttttt", 0),
    SD_BUS_SIGNAL("UnitFilesChanged", "", 0),
    SD_BUS_SIGNAL("Reloading", "b", 0),
    SD_BUS_VTABLE_END};

}  // namespace

int add_systemd1_manager(bus_state& st) {
  return add_vtable_object(st, kManagerPath, "org.freedesktop.systemd1.Manager", kManagerVtable);
}

}  // namespace dynamod::dbus
