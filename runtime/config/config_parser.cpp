#include "runtime/config/config_parser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "runtime/config/isolation_sections.hpp"
#include "runtime/config/toml_limits.hpp"
#include "runtime/config/toml_reader.hpp"
#include "protocol/terminal_text.hpp"

namespace dynamod {

namespace {

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
  });
}

// A command line (exec, stop-exec, check-exec): a program that is an absolute path or a bare name looked up in
// PATH at start; a relative path would depend on the working directory, and an empty one cannot run.
std::optional<std::vector<std::string>> command_line(toml_reader& r, const char* key, bool required) {
  auto v = r.string_array(key, required, false);
  if (!v) return v;
  const std::string& program = (*v)[0];
  if (program.empty()) {
    r.error(key, std::string{"the program ("} + key + "[0]) must not be empty");
    return std::nullopt;
  }
  if (program.find('/') != std::string::npos && program[0] != '/') {
    r.error(key, "'" + program + "' is a relative path: use an absolute path, or a bare name to search PATH");
    return std::nullopt;
  }
  return v;
}

bool is_ip_address(const std::string& host) {
  in6_addr buffer{};
  return ::inet_pton(AF_INET, host.c_str(), &buffer) == 1 || ::inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

std::optional<std::vector<std::string>> names(toml_reader& r, const char* key) {
  return r.string_array_of(key, valid_name, "is not a valid service name");
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
  if (auto v = command_line(r, "exec", true)) s.exec = *v;
  if (auto v = r.absolute_path("workdir")) s.workdir = *v;
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
  if (auto v = r.absolute_path("environment-file")) s.environment_file = *v;
  if (auto v = r.absolute_path("pid-file")) s.pid_file = *v;
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
  if (auto v = r.string("host")) {
    if (is_ip_address(*v)) s.host = *v;
    else r.error("host", "'" + *v + "' is not an IPv4 or IPv6 address (names are not resolved)");
  }
  if (auto v = command_line(r, "check-exec", false)) s.check_exec = *v;
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
  if (auto v = r.choice("notify-access", {"none", "main", "exec", "all"})) {
    s.notify_access_mode = *v == "none" ? notify_access::none
                           : *v == "exec" ? notify_access::exec
                           : *v == "all"  ? notify_access::all
                                          : notify_access::main;
    s.positions[r.path("notify-access")] = r.position("notify-access");
  }
  if (s.notify_access_mode == notify_access::none && (s.readiness == readiness_type::notify || s.watchdog)) {
    r.error("notify-access", s.watchdog ? "notify-access = \"none\" ignores the WATCHDOG=1 the watchdog needs"
                                        : "notify-access = \"none\" ignores the READY=1 that type = \"notify\" waits for");
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

void read_shutdown(toml_reader& r, service_config& s) {
  if (auto v = r.signal("stop-signal")) s.stop_signal = *v;
  if (auto v = r.duration("stop-timeout")) s.stop_timeout = *v;
  if (auto v = command_line(r, "stop-exec", false)) s.stop_exec = *v;
}

void read_log(toml_reader& r, service_config& s) {
  if (auto v = r.absolute_path("file")) s.log_file = *v;
  if (auto v = r.size("max-size")) {
    if (v->is_max) s.log_max_size = 0;  // never rotate
    else if (v->bytes < 4096) r.error("max-size", "must be at least 4K");
    else s.log_max_size = v->bytes;
  }
  if (auto v = r.integer("keep", 0, 100)) s.log_keep = static_cast<int>(*v);
}

// A NUL in a key or string would silently cut what reaches exec, the environment or a path. The first one found
// is reported, its key path cut to a bounded length (a file may hold thousands of them under a long key).
struct nul_found {
  std::string key_path;
  toml::source_region at;
  bool in_key = false;
};

std::optional<nul_found> find_nul(const toml::node& node, const std::string& key_path) {
  auto bounded = [](std::string path) { return path.size() > 200 ? path.substr(0, 200) + "..." : path; };
  if (const toml::table* t = node.as_table()) {
    for (auto&& [k, v] : *t) {
      const std::string key = bounded(key_path.empty() ? std::string{k.str()} : key_path + "." + std::string{k.str()});
      if (k.str().find('\0') != std::string_view::npos) return nul_found{key, k.source(), true};
      if (auto found = find_nul(v, key)) return found;
    }
  } else if (const toml::array* a = node.as_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      if (auto found = find_nul(*a->get(i), bounded(key_path + "[" + std::to_string(i) + "]"))) return found;
    }
  } else if (const auto* str = node.as_string()) {
    if (str->get().find('\0') != std::string::npos) return nul_found{key_path, node.source(), false};
  }
  return std::nullopt;
}

// Parses TOML within toml_limits; a file beyond them, a syntax error (toml++ gives the position) or a NUL in a
// key or string is recorded and nothing is returned. Every file goes through here before toml++ sees it.
std::optional<toml::table> parse_toml(const std::string& text, const std::string& path, config_errors& errors) {
  if (auto too_much = exceeds_toml_limits(text, path)) {
    errors.push_back(std::move(*too_much));
    return std::nullopt;
  }
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.push_back({path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column), "",
                      "TOML syntax error: " + std::string{e.description()}});
    return std::nullopt;
  }
  if (auto nul = find_nul(doc, "")) {
    errors.push_back({path, static_cast<int>(nul->at.begin.line), static_cast<int>(nul->at.begin.column), nul->key_path,
                      nul->in_key ? "a key must not contain a NUL character" : "a string must not contain a NUL character"});
    return std::nullopt;
  }
  return doc;
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
  section(root, "cgroup", [&](toml_reader& r) { read_cgroup_section(r, s); });
  section(root, "namespace", [&](toml_reader& r) { read_namespace_section(r, s); });
  section(root, "shutdown", [&](toml_reader& r) { read_shutdown(r, s); });
  section(root, "security", [&](toml_reader& r) { read_security_section(r, s); });
  section(root, "log", [&](toml_reader& r) { read_log(r, s); });
  if (root.has("socket")) {
    root.error("socket", "socket activation ([socket]) is not supported by this version of dynamod");
    root.node("socket");
  }
  root.finish();
  if (errors.size() != before) return std::nullopt;
  if (s.type == service_type::notify && s.readiness == readiness_type::none) s.readiness = readiness_type::notify;
  if (s.type == service_type::notify && s.notify_access_mode == notify_access::none) {
    const auto at = s.positions["readiness.notify-access"];
    errors.push_back({path, at.first, at.second, "readiness.notify-access",
                      "notify-access = \"none\" ignores the READY=1 that service.type = \"notify\" waits for"});
    return std::nullopt;
  }
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
    if (auto v = r.choice("give-up", {"degrade", "poweroff", "reboot", "emergency"})) {
      if (s.name != "root") {
        r.error("give-up", "only the root supervisor has this setting: a supervisor that gives up escalates to its "
                           "parent (OTP)");
      } else {
        s.give_up = *v == "poweroff"    ? give_up_action::poweroff
                    : *v == "reboot"    ? give_up_action::reboot
                    : *v == "emergency" ? give_up_action::emergency
                                        : give_up_action::degrade;
      }
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

std::string config_error::describe(bool for_terminal) const {
  // File names, keys and quoted values come from the files: escaped for a terminal, so none can forge a line.
  auto text = [&](const std::string& t) { return for_terminal ? terminal_safe(t) : t; };
  std::string out = text(file);
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  if (!out.empty()) out += ": ";
  if (!key.empty()) out += text(key) + ": ";
  return out + text(message);
}

}  // namespace dynamod
