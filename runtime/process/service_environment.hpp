// The environment a service process starts with, in the order systemd builds it: a base set, then
// environment-file entries, then the [service] environment table (later wins).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod {

struct service_config;

// Parses "KEY=VALUE" lines: blank lines and '#' / ';' comments skipped, optional "export ", values may be
// single- or double-quoted. Malformed lines are reported by number in `problems`.
std::map<std::string, std::string> parse_environment_file(const std::string& text, std::vector<std::string>& problems);

struct environment_inputs {
  std::string notify_socket;      // NOTIFY_SOCKET
  std::string invocation_id;      // INVOCATION_ID: 32 hex digits
  std::string home;               // from the user's passwd entry, or "/"
  std::string user;               // USER / LOGNAME when the service runs as a user
  std::optional<long> watchdog_usec;
  std::optional<int> ready_fd;    // DYNAMOD_READY_FD for fd readiness
  std::map<std::string, std::string> from_file;  // environment-file, already read
};

std::vector<std::string> build_environment(const service_config& config, const environment_inputs& in);

std::string new_invocation_id();  // 128 random bits, hex

}  // namespace dynamod
