// login1's inhibitors (Manager.Inhibit, ListInhibitors; ../shared/spec/dbus.md §3): locks a program takes on
// shutdown, sleep, idle or the power keys, held for as long as it keeps the FIFO descriptor Inhibit returned.
// "block" stops the operation; "delay" holds a shutdown back (at most InhibitDelayMaxUSec) after PrepareForShutdown
// so the holder can save its state. Pure: the login1 actor owns the FIFOs and carries out the shutdown.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dynamod::dbus::login {

// What an inhibitor covers, as a bit set ("shutdown:sleep" on the bus).
enum inhibit_what : uint32_t {
  inhibit_shutdown = 1u << 0,
  inhibit_sleep = 1u << 1,
  inhibit_idle = 1u << 2,
  inhibit_power_key = 1u << 3,
  inhibit_suspend_key = 1u << 4,
  inhibit_hibernate_key = 1u << 5,
  inhibit_lid_switch = 1u << 6,
  inhibit_reboot_key = 1u << 7,
};

enum class inhibit_mode { block, delay };

struct inhibitor {
  uint32_t id = 0;
  uint32_t what = 0;
  std::string who, why;
  inhibit_mode mode = inhibit_mode::delay;
  uint32_t uid = 0;
  uint32_t pid = 0;
};

// "shutdown:handle-power-key" -> its bits; nullopt for an empty list or an unknown name.
std::optional<uint32_t> parse_inhibit_what(const std::string& text);
std::string inhibit_what_text(uint32_t what);  // in logind's order, colon-separated
std::optional<inhibit_mode> parse_inhibit_mode(const std::string& text);
const char* to_string(inhibit_mode mode);

inline constexpr size_t kMaxInhibitors = 8192;       // systemd's InhibitorsMax
inline constexpr size_t kMaxInhibitorsPerUser = 64;  // one user cannot take the others' share (root is not limited)
inline constexpr size_t kMaxInhibitorText = 1024;    // who and why
inline constexpr uint64_t kInhibitDelayMaxUsec = 5000000;  // systemd's InhibitDelayMaxSec default

// Who may take an inhibitor without polkit, after logind's default policy: anyone may delay; blocking needs root or
// a local session of one's own (polkit's allow_active/allow_inactive yes, allow_any no).
bool may_inhibit(inhibit_mode mode, uint32_t uid, bool has_local_session);

class inhibitor_registry {
 public:
  struct refusal {
    std::string error;  // the D-Bus error name
    std::string message;
  };
  // Checks the limits and texts, then keeps it under a new id.
  std::variant<uint32_t, refusal> add(inhibitor i);
  // One a previous login1 kept (its file), under its own id; false if that id is taken or it is not valid.
  bool restore(const inhibitor& i);
  bool remove(uint32_t id);
  const inhibitor* find(uint32_t id) const;
  const std::map<uint32_t, inhibitor>& all() const { return inhibitors_; }
  // The union of what the inhibitors of `mode` cover (BlockInhibited, DelayInhibited).
  uint32_t inhibited(inhibit_mode mode) const;
  // Whether an inhibitor of `mode` covers any of `what`; those `ignore_uid` holds do not count (logind lets a user
  // go past their own blocks).
  bool inhibits(uint32_t what, inhibit_mode mode, std::optional<uint32_t> ignore_uid = std::nullopt) const;

 private:
  std::map<uint32_t, inhibitor> inhibitors_;
  uint32_t next_id_ = 1;
};

// What a power-off, reboot or halt request (Manager.PowerOff…, flags of …WithFlags) does given the inhibitors.
struct shutdown_verdict {
  bool refused = false;  // an AccessDenied with `message`
  std::string message;
  bool delayed = false;  // delay inhibitors hold it back after PrepareForShutdown
};
inline constexpr uint64_t kCheckInhibitorsFlag = 1;  // SD_LOGIND_ROOT_CHECK_INHIBITORS
shutdown_verdict decide_shutdown(const inhibitor_registry& inhibitors, uint32_t caller_uid, uint64_t flags);

// The file /run/systemd/inhibit/<id> (logind's keys; who and why with control bytes and backslashes as \xHH),
// and back: nullopt for a file that does not describe a valid inhibitor.
std::string inhibitor_file(const inhibitor& i, const std::string& fifo_path);
std::optional<inhibitor> parse_inhibitor_file(uint32_t id, const std::string& text);

}  // namespace dynamod::dbus::login
