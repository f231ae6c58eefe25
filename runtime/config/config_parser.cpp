#include "runtime/config/config_parser.hpp"

#include <algorithm>
#include <cctype>

#include "runtime/config/toml_reader.hpp"

namespace dynamod {

namespace {

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
  });
}

const std::vector<std::string> kNamespaces = {"pid", "mnt", "net", "uts", "ipc", "user", "cgroup"};
const std::vector<std::string> kRlimits = {"as",     "core",     "cpu",  "data",  "fsize",      "locks",
                                           "memlock", "msgqueue", "nice", "nofile", "nproc",     "rss",
                                           "rtprio", "rttime",   "sigpending", "stack"};

bool is_absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::optional<std::string> absolute_path(toml_reader& r, const char* key) {
  auto v = r.string(key);
  if (v && !is_absolute(*v)) {
    r.error(key, "'" + *v + "' must be an absolute path");
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> absolute_paths(toml_reader& r, const char* key) {
  auto v = r.string_array(key);
  if (!v) return v;
  for (const auto& p : *v) {
    if (!is_absolute(p)) {
      r.error(key, "'" + p + "' must be an absolute path");
      return std::nullopt;
    }
  }
  return v;
}

std::optional<std::vector<std::string>> names(toml_reader& r, const char* key) {
  auto v = r.string_array(key);
  if (!v) return v;
  for (const auto& n : *v) {
    if (!valid_name(n)) {
      r.error(key, "'" + n + "' is not a valid service name");
      return std::nullopt;
    }
  }
  return v;
}

void read_limit(toml_reader& r, const char* key, optional_limit& out) {
  if (auto v = r.size(key)) out = optional_limit{true, v->is_max, v->bytes};
}

// Capability names as the kernel knows them (CAP_* without the prefix, lower case accepted).
bool valid_capability(std::string name) {
  static const std::vector<std::string> caps = {
      "CHOWN",        "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",         "FSETID",       "KILL",
      "SETGID",       "SETUID",          "SETPCAP",         "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
      "NET_ADMIN",    "NET_RAW",         "IPC_LOCK",        "IPC_OWNER",      "SYS_MODULE",   "SYS_RAWIO",
      "SYS_CHROOT",   "SYS_PTRACE",      "SYS_PACCT",       "SYS_ADMIN",      "SYS_BOOT",     "SYS_NICE",
      "SYS_RESOURCE", "SYS_TIME",        "SYS_TTY_CONFIG",  "MKNOD",          "LEASE",        "AUDIT_WRITE",
      "AUDIT_CONTROL", "SETFCAP",        "MAC_OVERRIDE",    "MAC_ADMIN",      "SYSLOG",       "WAKE_ALARM",
      "BLOCK_SUSPEND", "AUDIT_READ",     "PERFMON",         "BPF",            "CHECKPOINT_RESTORE"};
  std::transform(name.begin(), name.end(), name.begin(), [](char c) { return std::toupper(static_cast<unsigned char>(c)); });
  if (name.rfind("CAP_", 0) == 0) name = name.substr(4);
  return std::find(caps.begin(), caps.end(), name) != caps.end();
}

std::optional<std::vector<std::string>> capabilities(toml_reader& r, const char* key) {
  auto v = r.string_array(key);
  if (!v) return v;
  for (const auto& c : *v) {
    if (!valid_capability(c)) {
      r.error(key, "'" + c + "' is not a capability (e.g. \"CAP_NET_BIND_SERVICE\")");
      return std::nullopt;
    }
  }
  return v;
}

std::optional<std::vector<std::string>> syscall_list(toml_reader& r, const char* key) {
  auto v = r.string_array(key);
  if (!v) return v;
  for (const auto& s : *v) {
    const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' ||
             c == '@' || c == '-';
    });
    if (!ok) {
      r.error(key, "'" + s + "' is not a syscall name or @group");
      return std::nullopt;
    }
  }
  return v;
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

void read_service(toml_reader& r, service_config& s) {
  if (auto v = r.string("name", true)) {
    if (valid_name(*v)) {
      s.name = *v;
    } else {
      r.error("name", "'" + *v + "' is not a valid name (letters, digits, '-', '_', '.', '@'; at most 64)");
    }
  }
  if (auto v = r.string("supervisor")) {
    if (valid_name(*v)) s.supervisor = *v;
    else r.error("supervisor", "'" + *v + "' is not a valid supervisor name");
  }
  s.positions["service.supervisor"] = r.position("supervisor");
  if (auto v = r.string_array("exec", true, false)) {
    if ((*v)[0].empty()) r.error("exec", "the program (exec[0]) must not be empty");
    else s.exec = *v;
  }
  if (auto v = absolute_path(r, "workdir")) s.workdir = *v;
  if (auto v = r.choice("type", {"simple", "oneshot", "forking", "notify"})) {
    s.type = *v == "oneshot" ? service_type::oneshot
             : *v == "forking" ? service_type::forking
             : *v == "notify" ? service_type::notify
                              : service_type::simple;
  }
  if (const toml::table* env = r.table("environment")) {
    for (auto&& [k, v] : *env) {
      const std::string key{k.str()};
      if (!v.is_string()) {
        r.error_at(v, r.path("environment") + "." + key, "expected a string, got " + describe_type(v));
      } else if (key.empty() || key.find('=') != std::string::npos) {
        r.error_at(v, r.path("environment") + "." + key, "not a valid variable name");
      } else {
        s.environment[key] = *v.value<std::string>();
      }
    }
  }
  if (auto v = absolute_path(r, "environment-file")) s.environment_file = *v;
  if (auto v = absolute_path(r, "pid-file")) s.pid_file = *v;
  if (const toml::table* user = r.table("user")) {
    toml_reader u = r.sub(*user, "user");
    if (auto v = u.string("user", true)) s.user = *v;
    if (auto v = u.string("group")) s.group = *v;
    if (auto v = u.string_array("supplementary-groups")) s.supplementary_groups = *v;
    u.finish();
  }
  if (!s.pid_file.empty() && s.type != service_type::forking) r.error("pid-file", "only meaningful with type = \"forking\"");
}

void read_restart(toml_reader& r, service_config& s) {
  if (auto v = r.choice("policy", {"permanent", "transient", "temporary"})) {
    s.restart = *v == "transient" ? restart_policy::transient
                : *v == "temporary" ? restart_policy::temporary
                                    : restart_policy::permanent;
  }
  if (auto v = r.duration("delay")) s.restart_delay = *v;
  if (auto v = r.integer("max-restarts", 0, 1000000)) s.max_restarts = static_cast<int>(*v);
  if (auto v = r.duration("max-restart-window")) {
    if (v->count() < 1000) r.error("max-restart-window", "must be at least 1s (OTP counts whole seconds)");
    else s.max_restart_window = *v;
  }
  if (const toml::node* n = r.node("backoff")) {
    if (n->is_boolean()) {
      s.backoff = *n->value<bool>();
    } else if (n->is_string() && parse_duration(*n->value<std::string>())) {
      s.backoff = true;
      s.backoff_max = *parse_duration(*n->value<std::string>());
    } else {
      r.error("backoff", "expected true, false or a maximum delay such as \"5m\"");
    }
  }
}

void read_readiness(toml_reader& r, service_config& s) {
  if (auto v = r.choice("type", {"none", "notify", "tcp-port", "exec", "fd"})) {
    s.readiness = *v == "notify" ? readiness_type::notify
                  : *v == "tcp-port" ? readiness_type::tcp_port
                  : *v == "exec" ? readiness_type::exec
                  : *v == "fd" ? readiness_type::fd
                                : readiness_type::none;
  }
  if (auto v = r.integer("port", 1, 65535)) s.port = static_cast<int>(*v);
  if (auto v = r.string("host")) s.host = *v;
  if (auto v = r.string_array("check-exec", false, false)) s.check_exec = *v;
  if (auto v = r.duration("interval")) {
    if (v->count() < 10) r.error("interval", "must be at least 10ms");
    else s.check_interval = *v;
  }
  if (auto v = r.duration("check-timeout")) s.check_timeout = *v;
  if (auto v = r.integer("retries", 0, 1000000)) s.check_retries = static_cast<int>(*v);
  if (auto v = r.integer("fd", 3, 1023)) s.ready_fd = static_cast<int>(*v);
  if (auto v = r.duration("timeout")) s.start_timeout = *v;
  if (auto v = r.duration("watchdog")) {
    if (v->count() < 10) r.error("watchdog", "must be at least 10ms");
    else s.watchdog = *v;
  }
  if (s.readiness == readiness_type::tcp_port && s.port == 0 && !r.has("port")) {
    r.error("type", "type = \"tcp-port\" needs readiness.port");
  }
  if (s.readiness == readiness_type::exec && s.check_exec.empty() && !r.has("check-exec")) {
    r.error("type", "type = \"exec\" needs readiness.check-exec");
  }
  if (s.readiness != readiness_type::tcp_port && (r.has("port") || r.has("host"))) {
    r.error(r.has("port") ? "port" : "host", "only meaningful with type = \"tcp-port\"");
  }
  if (s.readiness != readiness_type::exec && r.has("check-exec")) {
    r.error("check-exec", "only meaningful with type = \"exec\"");
  }
}

void read_dependencies(toml_reader& r, service_config& s) {
  if (auto v = names(r, "requires")) s.requires_ = *v;
  if (auto v = names(r, "wants")) s.wants = *v;
  if (auto v = names(r, "after")) s.after = *v;
  if (auto v = names(r, "before")) s.before = *v;
  for (const char* key : {"requires", "wants", "after", "before"}) s.positions[r.path(key)] = r.position(key);
  for (const auto* list : {&s.requires_, &s.wants, &s.after, &s.before}) {
    if (std::find(list->begin(), list->end(), s.name) != list->end() && !s.name.empty()) {
      r.error(list == &s.requires_ ? "requires" : list == &s.wants ? "wants" : list == &s.after ? "after" : "before",
              "a service cannot depend on itself");
    }
  }
}

void read_cgroup(toml_reader& r, service_config& s) {
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

void read_namespace(toml_reader& r, service_config& s) {
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
      if (!b.source.empty() && !is_absolute(b.source)) m.error("source", "must be an absolute path");
      if (!b.target.empty() && !is_absolute(b.target)) m.error("target", "must be an absolute path");
      m.finish();
      s.bind_mounts.push_back(b);
    }
  }
  if (auto v = r.boolean("private-tmp")) s.private_tmp = *v;
  if (auto v = r.choice("protect-system", {"strict", "full"})) s.protect_system = *v;
  if (auto v = r.string("hostname")) s.hostname = *v;
  if (auto v = absolute_paths(r, "read-only-paths")) s.read_only_paths = *v;
  if (auto v = absolute_paths(r, "inaccessible-paths")) s.inaccessible_paths = *v;
  auto enabled = [&](const char* ns) { return std::find(s.namespaces.begin(), s.namespaces.end(), ns) != s.namespaces.end(); };
  if (!s.hostname.empty() && !enabled("uts")) r.error("hostname", "needs \"uts\" in namespace.enable");
  const bool needs_mnt = !s.bind_mounts.empty() || s.private_tmp || !s.protect_system.empty() ||
                         !s.read_only_paths.empty() || !s.inaccessible_paths.empty();
  if (needs_mnt && !enabled("mnt")) {
    r.error(r.has("private-tmp") ? "private-tmp" : r.has("bind-mounts") ? "bind-mounts" : r.has("protect-system") ? "protect-system" : r.has("read-only-paths") ? "read-only-paths" : "inaccessible-paths",
            "needs \"mnt\" in namespace.enable");
  }
}

void read_shutdown(toml_reader& r, service_config& s) {
  if (auto v = r.signal("stop-signal")) s.stop_signal = *v;
  if (auto v = r.duration("stop-timeout")) s.stop_timeout = *v;
  if (auto v = r.string_array("stop-exec", false, false)) s.stop_exec = *v;
}

void read_security(toml_reader& r, service_config& s) {
  if (auto v = r.boolean("no-new-privileges")) s.no_new_privileges = *v;
  if (auto v = capabilities(r, "capabilities")) s.capabilities = *v;
  if (auto v = capabilities(r, "ambient-capabilities")) s.ambient_capabilities = *v;
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

void read_log(toml_reader& r, service_config& s) {
  if (auto v = absolute_path(r, "file")) s.log_file = *v;
  if (auto v = r.size("max-size")) {
    if (v->is_max) s.log_max_size = 0;  // never rotate
    else if (v->bytes < 4096) r.error("max-size", "must be at least 4K");
    else s.log_max_size = v->bytes;
  }
  if (auto v = r.integer("keep", 0, 100)) s.log_keep = static_cast<int>(*v);
}

// Parses TOML; on a syntax error records it (toml++ gives the position) and returns nothing.
std::optional<toml::table> parse_toml(const std::string& text, const std::string& path, config_errors& errors) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.push_back({path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column), "",
                      "TOML syntax error: " + std::string{e.description()}});
    return std::nullopt;
  }
}

template <class Fn>
void section(toml_reader& root, const char* name, Fn read) {
  if (const toml::table* t = root.table(name)) {
    toml_reader r = root.sub(*t, name);
    read(r);
    r.finish();
  }
}

}  // namespace

std::optional<service_config> parse_service(const std::string& text, const std::string& path, config_errors& errors) {
  const size_t before = errors.size();
  auto doc = parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  service_config s;
  s.file = path;
  toml_reader root{*doc, "", path, errors};
  if (!root.has("service")) {
    errors.push_back({path, 1, 1, "service", "the [service] table is missing"});
    return std::nullopt;
  }
  section(root, "service", [&](toml_reader& r) { read_service(r, s); });
  section(root, "restart", [&](toml_reader& r) { read_restart(r, s); });
  section(root, "readiness", [&](toml_reader& r) { read_readiness(r, s); });
  section(root, "dependencies", [&](toml_reader& r) { read_dependencies(r, s); });
  section(root, "cgroup", [&](toml_reader& r) { read_cgroup(r, s); });
  section(root, "namespace", [&](toml_reader& r) { read_namespace(r, s); });
  section(root, "shutdown", [&](toml_reader& r) { read_shutdown(r, s); });
  section(root, "security", [&](toml_reader& r) { read_security(r, s); });
  section(root, "log", [&](toml_reader& r) { read_log(r, s); });
  if (root.has("socket")) {
    root.error("socket", "socket activation ([socket]) is not supported by this version of dynamod");
    root.node("socket");
  }
  root.finish();
  if (errors.size() != before) return std::nullopt;
  if (s.type == service_type::notify && s.readiness == readiness_type::none) s.readiness = readiness_type::notify;
  return s;
}

std::optional<supervisor_config> parse_supervisor(const std::string& text, const std::string& path,
                                                  config_errors& errors) {
  const size_t before = errors.size();
  auto doc = parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  supervisor_config s;
  s.file = path;
  toml_reader root{*doc, "", path, errors};
  if (!root.has("supervisor")) {
    errors.push_back({path, 1, 1, "supervisor", "the [supervisor] table is missing"});
    return std::nullopt;
  }
  section(root, "supervisor", [&](toml_reader& r) {
    if (auto v = r.string("name", true)) {
      if (valid_name(*v)) s.name = *v;
      else r.error("name", "'" + *v + "' is not a valid name");
    }
    if (auto v = r.string("parent")) {
      if (valid_name(*v)) s.parent = *v;
      else r.error("parent", "'" + *v + "' is not a valid supervisor name");
    }
    s.positions["supervisor.parent"] = r.position("parent");
    if (auto v = r.choice("strategy", {"one-for-one", "one-for-all", "rest-for-one", "simple-one-for-one"})) {
      s.strategy = *v == "one-for-all" ? supervisor_strategy::one_for_all
                   : *v == "rest-for-one" ? supervisor_strategy::rest_for_one
                   : *v == "simple-one-for-one" ? supervisor_strategy::simple_one_for_one
                                                : supervisor_strategy::one_for_one;
    }
    if (s.name == "root" && r.has("parent")) r.error("parent", "the root supervisor has no parent");
    if (!s.name.empty() && s.name == s.parent && s.name != "root") r.error("parent", "a supervisor cannot be its own parent");
  });
  section(root, "restart", [&](toml_reader& r) {
    if (auto v = r.integer("max-restarts", 0, 1000000)) s.max_restarts = static_cast<int>(*v);
    if (auto v = r.duration("max-restart-window")) {
      if (v->count() < 1000) r.error("max-restart-window", "must be at least 1s (OTP counts whole seconds)");
      else s.max_restart_window = *v;
    }
  });
  root.finish();
  if (errors.size() != before) return std::nullopt;
  if (s.name == "root") s.parent.clear();
  return s;
}

std::string config_error::describe() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

const char* to_string(service_type t) {
  switch (t) {
    case service_type::simple: return "simple";
    case service_type::oneshot: return "oneshot";
    case service_type::forking: return "forking";
    case service_type::notify: return "notify";
  }
  return "?";
}
const char* to_string(restart_policy p) {
  switch (p) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "?";
}
const char* to_string(readiness_type t) {
  switch (t) {
    case readiness_type::none: return "none";
    case readiness_type::notify: return "notify";
    case readiness_type::tcp_port: return "tcp-port";
    case readiness_type::exec: return "exec";
    case readiness_type::fd: return "fd";
  }
  return "?";
}
const char* to_string(supervisor_strategy s) {
  switch (s) {
    case supervisor_strategy::one_for_one: return "one-for-one";
    case supervisor_strategy::one_for_all: return "one-for-all";
    case supervisor_strategy::rest_for_one: return "rest-for-one";
    case supervisor_strategy::simple_one_for_one: return "simple-one-for-one";
  }
  return "?";
}

bool same_definition(service_config a, service_config b) {
  a.file.clear();
  b.file.clear();
  a.positions.clear();
  b.positions.clear();
  return a == b;
}

bool same_definition(supervisor_config a, supervisor_config b) {
  a.file.clear();
  b.file.clear();
  a.positions.clear();
  b.positions.clear();
  return a == b;
}

bool service_config::uses_cgroup_limits() const {
  return memory_max.set || memory_high.set || memory_swap_max.set || cpu_weight || !cpu_max.empty() || pids_max ||
         io_weight || !io_max.empty();
}

}  // namespace dynamod
