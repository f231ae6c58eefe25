#include "runtime/process/service_environment.hpp"

#include <sys/random.h>

#include "runtime/config/service_config.hpp"

namespace dynamod {

std::map<std::string, std::string> parse_environment_file(const std::string& text, std::vector<std::string>& problems) {
  std::map<std::string, std::string> out;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#' || line[first] == ';') {
      if (end == text.size()) break;
      continue;
    }
    line = line.substr(first);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    const size_t eq = line.find('=');
    const std::string key = eq == std::string::npos ? "" : line.substr(0, eq);
    const bool key_ok = !key.empty() && key.find_first_of(" \t") == std::string::npos;
    if (!key_ok) {
      problems.push_back("line " + std::to_string(line_no) + ": expected KEY=VALUE");
    } else {
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      out[key] = value;
    }
    if (end == text.size()) break;
  }
  return out;
}

std::vector<std::string> build_environment(const service_config& config, const environment_inputs& in) {
  std::map<std::string, std::string> env;
  env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  env["HOME"] = in.home.empty() ? "/" : in.home;
  if (!in.user.empty()) {
    env["USER"] = in.user;
    env["LOGNAME"] = in.user;
  }
  env["DYNAMOD_SERVICE"] = config.name;
  if (!in.invocation_id.empty()) env["INVOCATION_ID"] = in.invocation_id;
  if (!in.notify_socket.empty()) env["NOTIFY_SOCKET"] = in.notify_socket;
  if (in.watchdog_usec) env["WATCHDOG_USEC"] = std::to_string(*in.watchdog_usec);
  if (in.ready_fd) env["DYNAMOD_READY_FD"] = std::to_string(*in.ready_fd);
  for (const auto& [k, v] : in.from_file) env[k] = v;
  for (const auto& [k, v] : config.environment) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::string new_invocation_id() {
  unsigned char bytes[16] = {};
  if (::getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof bytes)) {
    // Uniqueness is what matters; before the pool is ready use what /dev/urandom would give.
    (void)!::getrandom(bytes, sizeof bytes, GRND_INSECURE);
  }
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0xF];
  }
  return out;
}

}  // namespace dynamod
