#include "dbus/login_devices.hpp"

#include <cctype>

namespace dynamod::dbus::login {

namespace {

bool numbered(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  return true;
}

const refusal kNotInControl{"org.freedesktop.login1.NotInControl", "You are not in control of this session"};

}  // namespace

std::optional<device_kind> classify_device(const std::string& subsystem, const std::string& sysname) {
  if (subsystem == "drm" && numbered(sysname, "card")) return device_kind::drm;
  if (subsystem == "input" && numbered(sysname, "event")) return device_kind::evdev;
  return std::nullopt;
}

std::optional<refusal> session_devices::take_control(const std::string& bus_name, bool force) {
  if (!controller_.empty() && controller_ != bus_name && !force) {
    return refusal{"org.freedesktop.DBus.Error.AccessDenied", "Cannot take control, another process is in control"};
  }
  if (controller_ != bus_name) devices_.clear();  // a new controller starts with nothing (the actor closed them)
  controller_ = bus_name;
  return std::nullopt;
}

std::vector<device_id> session_devices::release_control(const std::string& bus_name) {
  std::vector<device_id> out;
  if (controller_.empty() || controller_ != bus_name) return out;
  for (const auto& [d, e] : devices_) out.push_back(d);
  devices_.clear();
  controller_.clear();
  return out;
}

std::optional<refusal> session_devices::take(const std::string& caller, device_id d, device_kind kind, bool session_active) {
  if (controller_.empty() || caller != controller_) return kNotInControl;
  if (devices_.count(d)) return refusal{"org.freedesktop.login1.DeviceIsTaken", "Device already taken"};
  devices_[d] = entry{kind, !session_active};
  return std::nullopt;
}

std::optional<refusal> session_devices::release(const std::string& caller, device_id d) {
  if (controller_.empty() || caller != controller_) return kNotInControl;
  if (!devices_.erase(d)) return refusal{"org.freedesktop.login1.DeviceNotTaken", "Device not taken"};
  return std::nullopt;
}

std::vector<pause_signal> session_devices::pause_all() {
  std::vector<pause_signal> out;
  for (auto& [d, e] : devices_) {
    if (e.paused) continue;
    e.paused = true;
    e.awaiting_ack = e.kind == device_kind::drm;
    out.push_back({d, e.kind == device_kind::drm ? "pause" : "force"});
  }
  return out;
}

void session_devices::pause_complete(const std::string& caller, device_id d) {
  if (caller != controller_) return;
  auto it = devices_.find(d);
  if (it != devices_.end()) it->second.awaiting_ack = false;
}

size_t session_devices::awaiting_pause_complete() const {
  size_t n = 0;
  for (const auto& [d, e] : devices_) n += e.awaiting_ack;
  return n;
}

std::vector<device_id> session_devices::resume_all() {
  std::vector<device_id> out;
  for (auto& [d, e] : devices_) {
    if (!e.paused) continue;
    e.paused = false;
    e.awaiting_ack = false;
    out.push_back(d);
  }
  return out;
}

bool session_devices::is_paused(device_id d) const {
  auto it = devices_.find(d);
  return it != devices_.end() && it->second.paused;
}

}  // namespace dynamod::dbus::login
