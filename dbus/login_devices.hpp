// The devices a session's controller (a compositor, through libseat or mutter) takes from login1, as logind 252
// hands them out (../shared/spec/dbus.md §3, "How TakeDevice behaves"): only DRM cards and evdev nodes, one take
// per device, only by the controller; a VT switch away pauses them ("pause" for DRM, whose master is dropped;
// "force" for evdev, which is revoked), a switch back resumes them; releasing control releases them all. Pure: the
// login1 actor opens, masters, revokes and closes the descriptors, and sends the signals this decides.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod::dbus::login {

enum class device_kind { drm, evdev };

// From the device's sysfs subsystem and name (/sys/dev/char/MAJ:MIN): "drm"+"card0" is a DRM card, "input"+
// "event3" an evdev node; anything else (render nodes, mice, hidraw, disks) is refused.
std::optional<device_kind> classify_device(const std::string& subsystem, const std::string& sysname);

struct device_id {
  uint32_t major = 0;
  uint32_t minor = 0;
  bool operator<(const device_id& o) const { return major != o.major ? major < o.major : minor < o.minor; }
  bool operator==(const device_id& o) const { return major == o.major && minor == o.minor; }
};

struct refusal {
  std::string error;  // D-Bus error name
  std::string message;
};

// PauseDevice(major, minor, type) to send to the controller; type "pause" (wait for PauseDeviceComplete), "force"
// (already revoked) or "gone" (released).
struct pause_signal {
  device_id device;
  std::string type;
};

class session_devices {
 public:
  // TakeControl(force): one controller per session; `force` takes it from another (root only, checked by caller).
  std::optional<refusal> take_control(const std::string& bus_name, bool force);
  // ReleaseControl or the controller's bus name gone: every device is released (and closed by the actor).
  std::vector<device_id> release_control(const std::string& bus_name);
  const std::string& controller() const { return controller_; }

  // TakeDevice: the reply's `inactive` is !session_active.
  std::optional<refusal> take(const std::string& caller, device_id d, device_kind kind, bool session_active);
  // ReleaseDevice.
  std::optional<refusal> release(const std::string& caller, device_id d);
  // The session stopped being the seat's active one: what to pause and how (the actor drops DRM master, revokes
  // evdev, then sends these).
  std::vector<pause_signal> pause_all();
  // PauseDeviceComplete from the controller for a device paused with "pause"; once none is awaited, the VT switch
  // away may complete (logind's session_device_complete_pause).
  void pause_complete(const std::string& caller, device_id d);
  size_t awaiting_pause_complete() const;
  // The session became active again: the devices to resume (DRM: set master, same fd; evdev: a fresh fd).
  std::vector<device_id> resume_all();

  size_t taken() const { return devices_.size(); }
  bool is_paused(device_id d) const;

 private:
  struct entry {
    device_kind kind;
    bool paused = false;
    bool awaiting_ack = false;
  };
  std::string controller_;
  std::map<device_id, entry> devices_;
};

}  // namespace dynamod::dbus::login
