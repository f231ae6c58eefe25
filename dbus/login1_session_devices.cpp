// The controller's side of org.freedesktop.login1.Session (../shared/spec/dbus.md §3): TakeControl,
// ReleaseControl, TakeDevice, ReleaseDevice, PauseDeviceComplete as logind 252 does them, the devices following the
// session's activity (PauseDevice / ResumeDevice, unicast to the controller), and the release when the controller
// leaves the bus. Devices go only to the controller.
#include "dbus/login1_session_devices.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kInterface = "org.freedesktop.login1.Session";
constexpr unsigned long kDrmSetMaster = _IO('d', 0x1e);  // DRM_IOCTL_SET_MASTER
constexpr unsigned long kDrmDropMaster = _IO('d', 0x1f);  // DRM_IOCTL_DROP_MASTER
constexpr size_t kMaxDevicesPerSession = 256;
constexpr uint32_t kDrmMajor = 226;  // linux/major.h DRM_MAJOR: only DRM cards are taken under it

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
login_state& login_of(void* ud) { return *state_of(ud).login; }

// PauseDevice goes to the controller alone (logind unicasts it; sd-bus 252 has no sd_bus_emit_signal_to).
void send_pause_device(sd_bus* bus, const std::string& controller, const std::string& id, login::device_id d,
                       const char* type) {
  if (!bus || controller.empty()) return;
  sd_bus_message* m = nullptr;
  int r = sd_bus_message_new_signal(bus, &m, session_path(id).c_str(), kInterface, "PauseDevice");
  if (r >= 0) r = sd_bus_message_set_destination(m, controller.c_str());
  if (r >= 0) r = sd_bus_message_append(m, "uus", d.major, d.minor, type);
  if (r >= 0) r = sd_bus_send(bus, m, nullptr);
  if (r < 0) spdlog::warn("login1: cannot send PauseDevice to {}: {}", controller, strerror(-r));
  sd_bus_message_unref(m);
}

// The device node of MAJ:MIN, what it is (sysfs), opened; -errno on failure.
int open_device(login::device_id d, std::optional<login::device_kind>& kind) {
  const std::string sys = "/sys/dev/char/" + std::to_string(d.major) + ":" + std::to_string(d.minor);
  char target[4096];
  const ssize_t n = ::readlink((sys + "/subsystem").c_str(), target, sizeof target - 1);
  std::string subsystem;
  if (n > 0) {
    subsystem.assign(target, static_cast<size_t>(n));
    subsystem = subsystem.substr(subsystem.rfind('/') + 1);
  }
  std::string devname;
  std::ifstream uevent(sys + "/uevent");
  for (std::string line; std::getline(uevent, line);) {
    if (line.rfind("DEVNAME=", 0) == 0) devname = line.substr(8);
  }
  const std::string sysname = devname.substr(devname.rfind('/') + 1);
  kind = login::classify_device(subsystem, sysname);
  if (!kind || devname.empty() || devname.find("..") != std::string::npos) return -ENODEV;
  const int fd = ::open(("/dev/" + devname).c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -errno;
  struct stat st {};
  if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != d.major || minor(st.st_rdev) != d.minor) {
    ::close(fd);
    return -ENODEV;  // the node under /dev is not the device asked for
  }
  return fd;
}
}  // namespace

namespace login1_devices {

// The controller's unique name going away (the compositor died) releases its control, as logind does.
int on_name_owner_changed(sd_bus_message* m, void* ud, sd_bus_error*) {
  auto& st = state_of(ud);
  const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || (new_owner && *new_owner)) return 0;
  std::vector<std::string> lost;
  for (const auto& [id, controller] : st.login->controller_watch) {
    if (controller == name) lost.push_back(id);
  }
  for (const auto& id : lost) {
    spdlog::info("login1: the controller of session {} ({}) left the bus", id, name);
    login_release_control(st, id, false);
  }
  return 0;
}

int take_control(sd_bus_message* m, void* ud, sd_bus_error* error) {
  int force = 0;
  if (sd_bus_message_read(m, "b", &force) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (b).");
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  login1_devices::as_owner(m, ud, false, [force, sender](bus_state& st, const std::string& id, sd_bus_message* call, uint32_t uid) {
    if (force && uid != 0) {
      reply_error(call, SD_BUS_ERROR_ACCESS_DENIED, "Only root may take control by force");
      return;
    }
    login::session_devices probe = st.login->devices[id];
    if (auto no = probe.take_control(sender, force != 0)) {
      reply_error(call, no->error.c_str(), no->message);
      return;
    }
    // Taken by force from another controller: that one's devices are released first (it is told "gone").
    const std::string previous = st.login->devices[id].controller();
    if (!previous.empty() && previous != sender) login_release_control(st, id, true);
    st.login->devices[id].take_control(sender, force != 0);
    st.login->controller_watch[id] = sender;
    st.login->tallies[id].session = id;
    login_refresh_seat(st);
    spdlog::info("login1: {} controls session {}", sender, id);
    sd_bus_reply_method_return(call, "");
  });
  return 1;
}

int release_control(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  auto& ls = login_of(ud);
  if (ls.devices[ls.current_object].controller() != sender) {
    return sd_bus_error_set(error, "org.freedesktop.login1.NotInControl", "You are not in control of this session");
  }
  login_release_control(state_of(ud), ls.current_object, false);
  return sd_bus_reply_method_return(m, "");
}

int take_device(sd_bus_message* m, void* ud, sd_bus_error* error) {
  login::device_id d;
  if (sd_bus_message_read(m, "uu", &d.major, &d.minor) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (uu).");
  auto& ls = login_of(ud);
  const std::string id = ls.current_object;
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  auto& devices = ls.devices[id];
  if (devices.controller() != sender) {
    return sd_bus_error_set(error, "org.freedesktop.login1.NotInControl", "You are not in control of this session");
  }
  if (devices.taken() >= kMaxDevicesPerSession) return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED, "Too many devices");
  std::optional<login::device_kind> kind;
  const int fd = open_device(d, kind);
  if (fd < 0) return sd_bus_error_set_errnof(error, -fd, "Cannot open device %u:%u", d.major, d.minor);
  const bool active = ls.registry.find(id)->active;
  if (auto no = devices.take(sender, d, *kind, active)) {
    ::close(fd);
    return sd_bus_error_set(error, no->error.c_str(), no->message.c_str());
  }
  if (*kind == login::device_kind::drm) {
    ::ioctl(fd, active ? kDrmSetMaster : kDrmDropMaster, 0);
  } else if (!active) {
    ::ioctl(fd, EVIOCREVOKE, nullptr);
  }
  ls.device_fds[id][d] = fd;
  ++ls.tallies[id].taken;
  return sd_bus_reply_method_return(m, "hb", fd, !active);
}

int release_device(sd_bus_message* m, void* ud, sd_bus_error* error) {
  login::device_id d;
  if (sd_bus_message_read(m, "uu", &d.major, &d.minor) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (uu).");
  auto& ls = login_of(ud);
  const std::string id = ls.current_object;
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  if (auto no = ls.devices[id].release(sender, d)) return sd_bus_error_set(error, no->error.c_str(), no->message.c_str());
  ++ls.tallies[id].released;
  auto& fds = ls.device_fds[id];
  if (auto it = fds.find(d); it != fds.end()) {
    ::ioctl(it->second, kDrmDropMaster, 0);  // harmless on evdev (ENOTTY)
    ::close(it->second);
    fds.erase(it);
  }
  send_pause_device(state_of(ud).bus, sender, id, d, "gone");
  return sd_bus_reply_method_return(m, "");
}

int pause_device_complete(sd_bus_message* m, void* ud, sd_bus_error* error) {
  login::device_id d;
  if (sd_bus_message_read(m, "uu", &d.major, &d.minor) < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (uu).");
  auto& ls = login_of(ud);
  const std::string sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
  if (ls.devices[ls.current_object].controller() != sender) {
    return sd_bus_error_set(error, "org.freedesktop.login1.NotInControl", "You are not in control of this session");
  }
  ls.devices[ls.current_object].pause_complete(sender, d);
  return sd_bus_reply_method_return(m, "");
}

}  // namespace login1_devices

void login_release_control(bus_state& st, const std::string& id, bool announce) {
  auto& ls = *st.login;
  auto it = ls.devices.find(id);
  if (it == ls.devices.end()) return;
  const std::string controller = it->second.controller();
  it->second.release_control(controller);
  for (const auto& [d, fd] : ls.device_fds[id]) {
    ::ioctl(fd, kDrmDropMaster, 0);
    ::ioctl(fd, EVIOCREVOKE, nullptr);  // whoever holds a copy of an evdev fd reads nothing more
    ::close(fd);
    if (announce) send_pause_device(st.bus, controller, id, d, "gone");
  }
  ls.device_fds.erase(id);
  ls.devices.erase(it);
  ls.controller_watch.erase(id);
}

void login_follow_activity(bus_state& st, const std::string& id) {
  auto& ls = *st.login;
  const login::session* s = ls.registry.find(id);
  auto it = ls.devices.find(id);
  if (!s || it == ls.devices.end()) return;
  const std::string controller = it->second.controller();
  auto& fds = ls.device_fds[id];
  if (!s->active) {
    // Switched away: the devices stop working for this session before it is told (DRM master dropped, evdev
    // revoked, so even a copy of the fd is dead), then PauseDevice; "pause" asks for PauseDeviceComplete.
    for (const auto& pause : it->second.pause_all()) {
      auto fd = fds.find(pause.device);
      if (fd != fds.end()) ::ioctl(fd->second, pause.type == "force" ? EVIOCREVOKE : kDrmDropMaster, 0);
      send_pause_device(st.bus, controller, id, pause.device, pause.type.c_str());
    }
    return;
  }
  for (const auto& d : it->second.resume_all()) {
    auto fd = fds.find(d);
    if (fd == fds.end()) continue;
    std::optional<login::device_kind> kind;
    int handed = fd->second;
    if (d.major == kDrmMajor) {
      ::ioctl(fd->second, kDrmSetMaster, 0);
    } else {
      // A revoked evdev fd is dead for good: the controller gets a fresh one.
      const int fresh = open_device(d, kind);
      if (fresh < 0) continue;
      ::close(fd->second);
      fd->second = handed = fresh;
    }
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_signal(st.bus, &m, session_path(id).c_str(), kInterface, "ResumeDevice");
    if (r >= 0) r = sd_bus_message_set_destination(m, controller.c_str());
    if (r >= 0) r = sd_bus_message_append(m, "uuh", d.major, d.minor, handed);
    if (r >= 0) r = sd_bus_send(st.bus, m, nullptr);
    sd_bus_message_unref(m);
  }
}

}  // namespace dynamod::dbus
