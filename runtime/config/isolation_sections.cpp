// The [cgroup], [namespace] and [security] sections of a service file: limits, namespaces and mounts,
// capabilities, seccomp, rlimits. Each value is checked here, so a bad limit or an unknown syscall is a
// config error with its position, not a failed start.
#include "runtime/config/isolation_sections.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/security/capabilities.hpp"
#include "runtime/security/syscall_filter.hpp"

namespace dynamod {

namespace {

const std::vector<std::string> kNamespaces = {"pid", "mnt", "net", "uts", "ipc", "user", "cgroup"};
const std::vector<std::string> kRlimits = {"as",     "core",     "cpu",  "data",  "fsize",      "locks",
                                           "memlock", "msgqueue", "nice", "nofile", "nproc",     "rss",
                                           "rtprio", "rttime",   "sigpending", "stack"};

void read_limit(toml_reader& r, const char* key, optional_limit& out) {
  if (auto v = r.size(key)) out = optional_limit{true, v->is_max, v->bytes};
}

std::optional<std::vector<std::string>> capabilities(toml_reader& r, const char* key) {
  return r.string_array_of(key, [](const std::string& c) { return capability_number(c).has_value(); },
                           "is not a capability (e.g. \"CAP_NET_BIND_SERVICE\")");
}

std::optional<std::vector<std::string>> syscall_list(toml_reader& r, const char* key) {
  auto v = r.string_array(key);
  if (!v) return v;
  if (auto problem = unknown_syscall_name(*v)) {
    r.error(key, *problem);
    return std::nullopt;
  }
  return v;
}

// RFC 1123 labels, as sethostname(2) takes at most 64 bytes.
bool valid_hostname(const std::string& h) {
  if (h.empty() || h.size() > 64 || h.front() == '.' || h.front() == '-' || h.back() == '.') return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool valid_cpu_max(const std::string& s) {
  const auto space = s.find(' ');
  if (space == std::string::npos) return false;
  const std::string quota = s.substr(0, space), period = s.substr(space + 1);
  auto digits = [](const std::string& t) {
    return !t.empty() && t.size() < 10 && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(c); });
  };
  if (!digits(period) || std::stoll(period) < 1000 || std::stoll(period) > 1000000) return false;
  return quota == "max" || (digits(quota) && std::stoll(quota) >= 1000);
}

}  // namespace

void read_cgroup_section(toml_reader& r, service_config& s) {
  read_limit(r, "memory-max", s.memory_max);
  read_limit(r, "memory-high", s.memory_high);
  read_limit(r, "memory-swap-max", s.memory_swap_max);
  if (auto v = r.integer("cpu-weight", 1, 10000)) s.cpu_weight = static_cast<int>(*v);
  if (auto v = r.string("cpu-max")) {
    if (valid_cpu_max(*v)) s.cpu_max = *v;
    else r.error("cpu-max", "'" + *v + "' is not \"QUOTA PERIOD\" in microseconds (e.g. \"50000 100000\", or \"max 100000\")");
  }
  if (const toml::node* n = r.node("pids-max")) {
    if (n->is_integer() && *n->value<int64_t>() >= 1 && *n->value<int64_t>() <= 4194304) {
      s.pids_max = *n->value<int64_t>();
    } else if (n->is_string() && *n->value<std::string>() == "max") {
      s.pids_max = -1;
    } else {
      r.error("pids-max", "expected a number of tasks between 1 and 4194304, or \"max\"");
    }
  }
  if (auto v = r.integer("io-weight", 1, 10000)) s.io_weight = static_cast<int>(*v);
  if (auto v = r.string_array("io-max")) {
    for (const auto& line : *v) {
      const auto space = line.find(' ');
      const std::string dev = line.substr(0, space);
      const auto colon = dev.find(':');
      const bool dev_ok = colon != std::string::npos && colon > 0 && colon + 1 < dev.size() &&
                          std::all_of(dev.begin(), dev.end(), [](char c) { return std::isdigit(c) || c == ':'; });
      if (!dev_ok || space == std::string::npos) {
        r.error("io-max", "'" + line + "' is not \"MAJOR:MINOR key=value...\" (e.g. \"8:0 rbps=1048576\")");
        break;
      }
    }
    s.io_max = *v;
  }
}

void read_namespace_section(toml_reader& r, service_config& s) {
  if (auto v = r.string_array("enable")) {
    for (const auto& ns : *v) {
      if (std::find(kNamespaces.begin(), kNamespaces.end(), ns) == kNamespaces.end()) {
        r.error("enable", "'" + ns + "' is not a namespace (pid, mnt, net, uts, ipc, user, cgroup)");
      }
    }
    s.namespaces = *v;
  }
  if (const toml::array* mounts = r.array("bind-mounts")) {
    for (size_t i = 0; i < mounts->size(); ++i) {
      const toml::node& e = *mounts->get(i);
      const std::string key = r.path("bind-mounts") + "[" + std::to_string(i) + "]";
      if (!e.is_table()) {
        r.error_at(e, key, "expected a table { source, target, writable }");
        continue;
      }
      toml_reader m = r.sub_at(*e.as_table(), key);
      bind_mount b;
      if (auto v = m.string("source", true)) b.source = *v;
      if (auto v = m.string("target", true)) b.target = *v;
      if (auto v = m.boolean("writable")) b.writable = *v;
      if (!b.source.empty() && !is_absolute_path(b.source)) m.error("source", "must be an absolute path");
      if (!b.target.empty() && !is_absolute_path(b.target)) m.error("target", "must be an absolute path");
      m.finish();
      s.bind_mounts.push_back(b);
    }
  }
  if (auto v = r.boolean("private-tmp")) s.private_tmp = *v;
  if (auto v = r.choice("protect-system", {"strict", "full"})) s.protect_system = *v;
  if (auto v = r.string("hostname")) {
    if (valid_hostname(*v)) s.hostname = *v;
    else r.error("hostname", "'" + *v + "' is not a valid hostname (1 to 64 letters, digits, '-' and '.')");
  }
  if (auto v = r.absolute_paths("read-only-paths")) s.read_only_paths = *v;
  if (auto v = r.absolute_paths("inaccessible-paths")) s.inaccessible_paths = *v;
  auto enabled = [&](const char* ns) { return std::find(s.namespaces.begin(), s.namespaces.end(), ns) != s.namespaces.end(); };
  // A pid namespace always comes with a mount namespace (its /proc must be remounted): pid implies mnt.
  const bool has_mnt = enabled("mnt") || enabled("pid");
  if (auto v = r.boolean("service-is-pid1")) s.service_is_pid1 = *v;
  if (!s.hostname.empty() && !enabled("uts")) r.error("hostname", "needs \"uts\" in namespace.enable");
  if (s.service_is_pid1 && !enabled("pid")) r.error("service-is-pid1", "needs \"pid\" in namespace.enable");
  if (enabled("net") && s.readiness == readiness_type::tcp_port) {
    r.error("enable", "readiness.type = \"tcp-port\" cannot reach a service in its own network namespace (\"net\"); "
                      "use notify, exec or fd readiness");
  }
  const bool needs_mnt = !s.bind_mounts.empty() || s.private_tmp || !s.protect_system.empty() ||
                         !s.read_only_paths.empty() || !s.inaccessible_paths.empty();
  if (needs_mnt && !has_mnt) {
    const char* key = "inaccessible-paths";  // name the first mount option present
    for (const char* k : {"bind-mounts", "private-tmp", "protect-system", "read-only-paths"}) {
      if (r.has(k)) {
        key = k;
        break;
      }
    }
    r.error(key, "needs \"mnt\" (or \"pid\", which implies it) in namespace.enable");
  }
}

void read_security_section(toml_reader& r, service_config& s) {
  if (auto v = r.boolean("no-new-privileges")) s.no_new_privileges = *v;
  if (auto v = capabilities(r, "capabilities")) s.capabilities = *v;
  if (auto v = capabilities(r, "ambient-capabilities")) s.ambient_capabilities = *v;
  if (s.capabilities) {
    // The kernel drops an ambient capability that is not in the bounding set: say so now, not silently at exec.
    const uint64_t bounding = capability_mask(*s.capabilities);
    for (const auto& c : s.ambient_capabilities) {
      if ((capability_mask({c}) & bounding) == 0) {
        r.error("ambient-capabilities", "'" + c + "' is not in the bounding set (security.capabilities)");
        break;
      }
    }
  }
  if (auto v = syscall_list(r, "seccomp-allow")) s.seccomp_allow = *v;
  if (auto v = syscall_list(r, "seccomp-deny")) s.seccomp_deny = *v;
  if (auto v = r.choice("seccomp-action", {"errno", "kill"})) s.seccomp_kill = *v == "kill";
  if (!s.seccomp_allow.empty() && !s.seccomp_deny.empty()) {
    r.error("seccomp-deny", "use either seccomp-allow or seccomp-deny, not both");
  }
  if (const toml::table* limits = r.table("rlimits")) {
    for (auto&& [k, v] : *limits) {
      const std::string name{k.str()};
      const std::string key = r.path("rlimits") + "." + name;
      if (std::find(kRlimits.begin(), kRlimits.end(), name) == kRlimits.end()) {
        r.error_at(v, key, "unknown resource limit (nofile, nproc, core, memlock, stack, ...)");
      } else if (v.is_integer() && *v.value<int64_t>() >= 0) {
        s.rlimits[name] = *v.value<int64_t>();
      } else if (v.is_string() && *v.value<std::string>() == "infinity") {
        s.rlimits[name] = -1;
      } else {
        r.error_at(v, key, "expected a non-negative integer or \"infinity\"");
      }
    }
  }
  if (auto v = r.string("umask")) {
    if (auto m = parse_umask(*v)) s.umask = *m;
    else r.error("umask", "'" + *v + "' is not an octal mode such as \"022\"");
  }
}

}  // namespace dynamod
