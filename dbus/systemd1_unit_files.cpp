#include "dbus/systemd1_unit_files.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/unit_names.hpp"
#include "runtime/config/config_loader.hpp"

namespace dynamod::dbus {

namespace {

constexpr auto kRuntimeTimeout = std::chrono::seconds(10);

struct file_change {
  std::string type;  // "symlink", "unlink"
  std::string path;
  std::string source;
};

enum class reply_shape { with_install_info, changes_only };

void reply_changes(sd_bus_message* call, const std::vector<file_change>& changes, reply_shape shape) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(call, &reply);
  // carries_install_info: every dynamod service can be enabled and disabled (systemctl warns when false).
  if (r >= 0 && shape == reply_shape::with_install_info) r = sd_bus_message_append(reply, "b", 1);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(sss)");
  for (size_t i = 0; r >= 0 && i < changes.size(); ++i) {
    r = sd_bus_message_append(reply, "(sss)", changes[i].type.c_str(), changes[i].path.c_str(), changes[i].source.c_str());
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
}

// Makes (disable) or removes (enable) the services' markers, answering the changes made.
void change_unit_files(bus_state& st, sd_bus_message* m, std::vector<std::string> names, bool enable, reply_shape shape) {
  bus_state* s = &st;
  auto call = keep(m);
  require_root(st, m, [s, call, names, enable, shape] {
    with_units(*s, [s, call, names, enable, shape](std::vector<unit_view> units) {
      const std::string& dir = s->args.ctx->paths.config_dir;
      std::vector<file_change> changes;
      for (const auto& unit : names) {
        const auto name = parse_unit_name(unit) ? dynamod_name_of(unit) : std::nullopt;
        const bool known = name && std::any_of(units.begin(), units.end(), [&](const unit_view& u) {
                             return u.unit == unit && u.state != dynamod_state::unknown;
                           });
        if (!known) {
          reply_error(call.get(), SD_BUS_ERROR_FILE_NOT_FOUND, "Unit file " + unit.substr(0, 255) + " does not exist.");
          pump(*s);
          return;
        }
        if (name->supervisor) continue;  // a supervisor runs with the runtime: "static", nothing to change
        const std::string marker = manual_start_marker(dir, name->name);
        struct stat sb{};
        const bool marked = ::lstat(marker.c_str(), &sb) == 0;
        if (enable && marked) {
          if (::unlink(marker.c_str()) < 0) {
            reply_error(call.get(), SD_BUS_ERROR_FAILED, "cannot remove " + marker + ": " + strerror(errno));
            pump(*s);
            return;
          }
          changes.push_back({"unlink", marker, ""});
        } else if (!enable && !marked) {
          ::mkdir((dir + "/manual").c_str(), 0755);
          if (::symlink("/dev/null", marker.c_str()) < 0) {
            reply_error(call.get(), SD_BUS_ERROR_FAILED, "cannot create " + marker + ": " + strerror(errno));
            pump(*s);
            return;
          }
          changes.push_back({"symlink", marker, "/dev/null"});
        }
      }
      for (const auto& c : changes) spdlog::info("dbus: {} {}", enable ? "enabled: removed" : "disabled: created", c.path);
      reply_changes(call.get(), changes, shape);
      if (!changes.empty()) {
        sd_bus_emit_signal(s->bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "UnitFilesChanged", "");
      }
      pump(*s);
    });
  });
}

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }

}  // namespace

int method_enable_unit_files(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  int runtime = 0, force = 0;
  int r = read_string_array(m, names, error);
  if (r >= 0) r = sd_bus_message_read(m, "bb", &runtime, &force);
  if (r < 0) return r;
  change_unit_files(state_of(ud), m, std::move(names), true, reply_shape::with_install_info);
  return 1;
}

int method_enable_unit_files_with_flags(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  uint64_t flags = 0;
  int r = read_string_array(m, names, error);
  if (r >= 0) r = sd_bus_message_read(m, "t", &flags);
  if (r < 0) return r;
  change_unit_files(state_of(ud), m, std::move(names), true, reply_shape::with_install_info);
  return 1;
}

int method_disable_unit_files(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  int runtime = 0;
  int r = read_string_array(m, names, error);
  if (r >= 0) r = sd_bus_message_read(m, "b", &runtime);
  if (r < 0) return r;
  change_unit_files(state_of(ud), m, std::move(names), false, reply_shape::changes_only);
  return 1;
}

int method_disable_unit_files_with_flags(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  uint64_t flags = 0;
  int r = read_string_array(m, names, error);
  if (r >= 0) r = sd_bus_message_read(m, "t", &flags);
  if (r < 0) return r;
  change_unit_files(state_of(ud), m, std::move(names), false, reply_shape::changes_only);
  return 1;
}

int method_disable_unit_files_with_info(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> names;
  uint64_t flags = 0;
  int r = read_string_array(m, names, error);
  if (r >= 0) r = sd_bus_message_read(m, "t", &flags);
  if (r < 0) return r;
  change_unit_files(state_of(ud), m, std::move(names), false, reply_shape::with_install_info);
  return 1;
}

int method_reset_failed_unit(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* name = nullptr;
  int r = sd_bus_message_read(m, "s", &name);
  if (r < 0) return r;
  auto unit = parse_unit_name(name) ? dynamod_name_of(name) : std::nullopt;
  if (!parse_unit_name(name)) {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unit name %.255s is not valid.", name);
  }
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  const std::string unit_name = name;
  require_root(*s, m, [s, call, unit, unit_name] {
    if (!unit || unit->supervisor) {
      // Nothing of the kind fails in dynamod (a supervisor left failed is started again with `start`).
      if (unit) sd_bus_reply_method_return(call.get(), "");
      else reply_error(call.get(), "org.freedesktop.systemd1.NoSuchUnit", "Unit " + unit_name + " not loaded.");
      pump(*s);
      return;
    }
    s->self->request(s->args.ctx->runtime, kRuntimeTimeout, reset_failed_atom_v, unit->name)
        .then(
            [s, call](bool) {
              sd_bus_reply_method_return(call.get(), "");
              pump(*s);
            },
            [s, call, unit_name](caf::error&) {
              reply_error(call.get(), "org.freedesktop.systemd1.NoSuchUnit", "Unit " + unit_name + " not loaded.");
              pump(*s);
            });
  });
  return 1;
}

int method_reset_failed(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call] {
    with_units(*s, [s, call](std::vector<unit_view> units) {
      for (const auto& u : units) {
        auto name = dynamod_name_of(u.unit);
        if (!name || name->supervisor || u.state != dynamod_state::failed) continue;
        s->self->request(s->args.ctx->runtime, kRuntimeTimeout, reset_failed_atom_v, name->name)
            .then([](bool) {}, [](caf::error&) {});
      }
      sd_bus_reply_method_return(call.get(), "");
      pump(*s);
    });
  });
  return 1;
}

}  // namespace dynamod::dbus
