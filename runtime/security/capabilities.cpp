#include "runtime/security/capabilities.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace dynamod {

namespace {

// Index = capability number.
constexpr std::array<const char*, 41> kNames = {
    "CHOWN",           "DAC_OVERRIDE",  "DAC_READ_SEARCH", "FOWNER",         "FSETID",     "KILL",
    "SETGID",          "SETUID",        "SETPCAP",         "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
    "NET_BROADCAST",   "NET_ADMIN",     "NET_RAW",         "IPC_LOCK",       "IPC_OWNER",  "SYS_MODULE",
    "SYS_RAWIO",       "SYS_CHROOT",    "SYS_PTRACE",      "SYS_PACCT",      "SYS_ADMIN",  "SYS_BOOT",
    "SYS_NICE",        "SYS_RESOURCE",  "SYS_TIME",        "SYS_TTY_CONFIG", "MKNOD",      "LEASE",
    "AUDIT_WRITE",     "AUDIT_CONTROL", "SETFCAP",         "MAC_OVERRIDE",   "MAC_ADMIN",  "SYSLOG",
    "WAKE_ALARM",      "BLOCK_SUSPEND", "AUDIT_READ",      "PERFMON",        "BPF",        "CHECKPOINT_RESTORE"};

}  // namespace

std::optional<int> capability_number(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](char c) { return std::toupper(static_cast<unsigned char>(c)); });
  if (name.rfind("CAP_", 0) == 0) name = name.substr(4);
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string capability_name(int number) {
  if (number < 0 || number >= static_cast<int>(kNames.size())) return "CAP_" + std::to_string(number);
  return std::string{"CAP_"} + kNames[static_cast<size_t>(number)];
}

int last_capability() { return static_cast<int>(kNames.size()) - 1; }

uint64_t capability_mask(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (const auto& n : names) {
    if (auto c = capability_number(n)) mask |= uint64_t{1} << *c;
  }
  return mask;
}

}  // namespace dynamod
