#include "runtime/config/definition_fingerprint.hpp"

#include <cstdio>

namespace dynamod {

namespace {

// A canonical byte string of the definition: each value length-prefixed, so no two definitions collide by
// concatenation. FNV-1a over it is stable across builds (std::hash need not be).
class canonical {
 public:
  void add(const std::string& s) {
    text_ += std::to_string(s.size());
    text_ += ':';
    text_ += s;
  }
  void add(const char* s) { add(std::string{s}); }
  void add(long long v) { add(std::to_string(v)); }
  void add(unsigned long long v) { add(std::to_string(v)); }
  void add(int v) { add(static_cast<long long>(v)); }
  void add(bool v) { add(std::string{v ? "1" : "0"}); }
  void add(milliseconds v) { add(static_cast<long long>(v.count())); }
  void add(const std::vector<std::string>& v) {
    add(static_cast<long long>(v.size()));
    for (const auto& s : v) add(s);
  }
  template <class T>
  void add(const std::optional<T>& v) {
    add(v.has_value());
    if (v) add(*v);
  }
  void add(const optional_limit& l) {
    add(l.set);
    add(l.is_max);
    add(static_cast<unsigned long long>(l.bytes));
  }
  std::string hex() const {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char ch : text_) {
      h ^= ch;
      h *= 1099511628211ull;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
  }

 private:
  std::string text_;
};

}  // namespace

std::string definition_fingerprint(const service_config& c) {
  canonical k;
  k.add(c.name);
  // Not c.supervisor: where the service sits in the tree does not change its process (a reload that moves a
  // service hands the running process over; see supervisor_reload).
  k.add(c.exec);
  k.add(c.workdir);
  k.add(to_string(c.type));
  k.add(static_cast<long long>(c.environment.size()));
  for (const auto& [key, value] : c.environment) {
    k.add(key);
    k.add(value);
  }
  k.add(c.environment_file);
  k.add(c.pid_file);
  k.add(c.user);
  k.add(c.group);
  k.add(c.supplementary_groups);
  k.add(to_string(c.restart));
  k.add(c.restart_delay);
  k.add(c.max_restarts);
  k.add(c.max_restart_window);
  k.add(c.backoff);
  k.add(c.backoff_max);
  k.add(to_string(c.readiness));
  k.add(c.port);
  k.add(c.host);
  k.add(c.check_exec);
  k.add(c.check_interval);
  k.add(c.check_timeout);
  k.add(c.check_retries);
  k.add(c.ready_fd);
  k.add(c.start_timeout);
  k.add(c.watchdog);
  k.add(to_string(c.notify_access_mode));
  k.add(c.requires_);
  k.add(c.wants);
  k.add(c.after);
  k.add(c.before);
  k.add(c.memory_max);
  k.add(c.memory_high);
  k.add(c.memory_swap_max);
  k.add(c.cpu_weight);
  k.add(c.cpu_max);
  k.add(c.pids_max.has_value());
  if (c.pids_max) k.add(static_cast<long long>(*c.pids_max));
  k.add(c.io_weight);
  k.add(c.io_max);
  k.add(c.namespaces);
  k.add(static_cast<long long>(c.bind_mounts.size()));
  for (const auto& b : c.bind_mounts) {
    k.add(b.source);
    k.add(b.target);
    k.add(b.writable);
  }
  k.add(c.private_tmp);
  k.add(c.protect_system);
  k.add(c.hostname);
  k.add(c.read_only_paths);
  k.add(c.inaccessible_paths);
  k.add(c.service_is_pid1);
  k.add(c.stop_signal);
  k.add(c.stop_timeout);
  k.add(c.stop_exec);
  k.add(c.no_new_privileges);
  k.add(c.capabilities);
  k.add(c.ambient_capabilities);
  k.add(c.seccomp_allow);
  k.add(c.seccomp_deny);
  k.add(c.seccomp_kill);
  k.add(static_cast<long long>(c.rlimits.size()));
  for (const auto& [key, value] : c.rlimits) {
    k.add(key);
    k.add(static_cast<long long>(value));
  }
  k.add(c.umask.has_value());
  if (c.umask) k.add(static_cast<long long>(*c.umask));
  k.add(c.log_file);
  k.add(static_cast<unsigned long long>(c.log_max_size));
  k.add(c.log_keep);
  return k.hex();
}

}  // namespace dynamod
