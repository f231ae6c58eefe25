#include "dynamodctl/render.hpp"

#include "protocol/terminal_text.hpp"

#include <cstdio>
#include <algorithm>
#include <sstream>
#include <vector>

namespace dynamod::ctl {

using json = nlohmann::json;

namespace {

std::string paint(bool on, const char* code, const std::string& s) {
  return on ? std::string{"\033["} + code + "m" + s + "\033[0m" : s;
}

// Every string the runtime sends may quote a file, a service or a client: shown escaped (terminal_safe).
std::string text(const json& v, bool keep_tabs = false) {
  return v.is_string() ? terminal_safe(v.get_ref<const std::string&>(), keep_tabs) : v.dump();
}

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  const json& v = j.at(key);
  if (v.is_string()) return text(v);
  if (v.is_null()) return {};
  return v.dump();
}

// The array (or object) under `key`, or an empty one: avoids json temporaries as defaults.
const json& member(const json& j, const char* key) {
  static const json empty_array = json::array();
  if (!j.is_object() || !j.contains(key)) return empty_array;
  return j.at(key);
}

int64_t num(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_number()) return 0;
  return j.at(key).get<int64_t>();
}

// Display width of UTF-8 text (each code point counts one column; enough for our output).
size_t width(const std::string& s) {
  size_t w = 0;
  bool escape = false;
  for (unsigned char c : s) {
    if (c == 0x1b) escape = true;
    if (escape) {
      if (c == 'm') escape = false;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++w;
  }
  return w;
}

std::string pad(const std::string& s, size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }

// Columns aligned to the widest cell; the last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows) {
    widths.resize(std::max(widths.size(), r.size()), 0);
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));
  }
  std::ostringstream out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 == r.size() ? r[i] : pad(r[i], widths[i]) + "  ";
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  return out.str();
}

}  // namespace

std::string style::state(const std::string& s) const {
  if (s == "running" || s == "done") return paint(colour, "32", s);
  if (s == "failed") return paint(colour, "1;31", s);
  if (s == "disabled") return paint(colour, "2", s);
  if (s == "starting" || s == "stopping" || s == "waiting") return paint(colour, "33", s);
  return s;
}
std::string style::bold(const std::string& s) const { return paint(colour, "1", s); }
std::string style::dim(const std::string& s) const { return paint(colour, "2", s); }

std::string format_duration_ms(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

std::string render_list(const json& services, const style& st) {
  std::vector<std::vector<std::string>> rows{{"SERVICE", "STATE", "PID", "UPTIME", "RESTARTS", "SUPERVISOR", "INFO"}};
  std::vector<json> sorted(services.begin(), services.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) { return str(a, "name") < str(b, "name"); });
  for (const auto& s : sorted) {
    const int64_t pid = num(s, "pid");
    const int64_t up = num(s, "uptime_ms");
    std::string info = str(s, "status_text");
    if (info.empty()) info = str(s, "detail");
    if (info.empty() && !str(s, "last_exit").empty() && num(s, "restarts") > 0) info = "last exit: " + str(s, "last_exit");
    rows.push_back({str(s, "name"), st.state(str(s, "state")), pid > 0 ? std::to_string(pid) : "-",
                    up > 0 ? format_duration_ms(up) : "-", std::to_string(num(s, "restarts")), str(s, "supervisor"),
                    info});
  }
  return table(rows);
}

namespace {

std::string bytes_text(const json& v) {
  if (!v.is_number()) return v.is_string() ? text(v) : "-";
  const double b = v.get<double>();
  char buf[32];
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1fG", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1fM", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1fK", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.0fB", b);
  return buf;
}

// CGroup / Memory / Tasks / CPU lines from the cgroup watcher's figures, as systemctl status shows them.
std::vector<std::vector<std::string>> cgroup_rows(const json& c) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"CGroup:", str(c, "cgroup")});
  if (c.contains("memory_current") && c.at("memory_current").is_number()) {
    std::string m = bytes_text(c.at("memory_current"));
    std::vector<std::string> limits;
    if (c.contains("memory_peak") && c.at("memory_peak").is_number()) limits.push_back("peak " + bytes_text(c.at("memory_peak")));
    if (c.contains("memory_max") && c.at("memory_max") != "max") limits.push_back("max " + bytes_text(c.at("memory_max")));
    if (c.contains("memory_high") && c.at("memory_high") != "max") limits.push_back("high " + bytes_text(c.at("memory_high")));
    for (size_t i = 0; i < limits.size(); ++i) m += (i == 0 ? " (" : ", ") + limits[i];
    if (!limits.empty()) m += ")";
    rows.push_back({"Memory:", m});
  }
  if (c.contains("pids_current") && c.at("pids_current").is_number()) {
    std::string t = std::to_string(num(c, "pids_current"));
    if (c.contains("pids_max") && c.at("pids_max").is_number()) t += " (limit " + std::to_string(num(c, "pids_max")) + ")";
    rows.push_back({"Tasks:", t});
  }
  if (c.contains("cpu_usage_usec")) {
    std::string cpu = format_duration_ms(num(c, "cpu_usage_usec") / 1000);
    const std::string max = str(c, "cpu_max");
    const auto space = max.find(' ');
    if (space != std::string::npos && max.substr(0, space) != "max") {
      const double share = std::stod(max.substr(0, space)) / std::stod(max.substr(space + 1));
      char buf[32];
      std::snprintf(buf, sizeof buf, " (limit %.0f%% of a CPU)", share * 100);
      cpu += buf;
    }
    rows.push_back({"CPU:", cpu});
  }
  return rows;
}

}  // namespace

std::string render_status(const json& s, const style& st) {
  std::ostringstream out;
  const std::string state = str(s, "state");
  const std::string dot = state == "running" || state == "done" ? "●" : state == "failed" ? "×" : "○";
  out << st.state(dot) << " " << st.bold(str(s, "name"));
  if (!str(s, "supervisor").empty()) out << " - supervisor " << str(s, "supervisor");
  out << "\n";
  std::vector<std::vector<std::string>> rows;
  std::string state_line = st.state(state);
  if (num(s, "pid") > 0) state_line += " (pid " + std::to_string(num(s, "pid")) + ")";
  if (num(s, "uptime_ms") > 0) state_line += ", up " + format_duration_ms(num(s, "uptime_ms"));
  else if (num(s, "since_ms") > 0) state_line += ", since " + format_duration_ms(num(s, "since_ms")) + " ago";
  rows.push_back({"State:", state_line});
  if (!str(s, "detail").empty() && str(s, "detail") != str(s, "last_exit")) rows.push_back({"Detail:", str(s, "detail")});
  if (!str(s, "type").empty()) rows.push_back({"Type:", str(s, "type")});
  if (!str(s, "readiness").empty()) {
    std::string r = str(s, "readiness");
    if (s.contains("ready")) r += s.value("ready", false) ? " (ready)" : " (not ready)";
    rows.push_back({"Readiness:", r});
  }
  if (!str(s, "status_text").empty()) rows.push_back({"Status:", "\"" + str(s, "status_text") + "\""});
  if (s.contains("restarts")) {
    std::string r = std::to_string(num(s, "restarts"));
    if (!str(s, "last_exit").empty()) r += " (last exit: " + str(s, "last_exit") + ")";
    rows.push_back({"Restarts:", r});
  }
  if (!str(s, "restart_policy").empty()) rows.push_back({"Policy:", str(s, "restart_policy")});
  if (s.contains("exec") && s.at("exec").is_array()) {
    std::string cmd;
    for (const auto& a : s.at("exec")) cmd += (cmd.empty() ? "" : " ") + text(a);
    rows.push_back({"Exec:", cmd});
  }
  for (const char* key : {"requires", "wants", "after"}) {
    if (!s.contains(key) || !s.at(key).is_array() || s.at(key).empty()) continue;
    std::string list;
    for (const auto& a : s.at(key)) list += (list.empty() ? "" : ", ") + text(a);
    std::string label = key;
    label[0] = static_cast<char>(std::toupper(label[0]));
    rows.push_back({label + ":", list});
  }
  if (s.contains("cgroup") && s.at("cgroup").is_object()) {
    for (auto& row : cgroup_rows(s.at("cgroup"))) rows.push_back(std::move(row));
  }
  if (num(s, "oom_kills") > 0) rows.push_back({"OOM kills:", std::to_string(num(s, "oom_kills"))});
  if (!str(s, "file").empty()) rows.push_back({"File:", str(s, "file")});
  if (!str(s, "invocation_id").empty()) rows.push_back({"Invocation:", str(s, "invocation_id")});
  std::string body = table(rows);
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) out << "  " << line << "\n";
  if (s.contains("log") && s.at("log").is_array() && !s.at("log").empty()) {
    out << "\n";
    for (const auto& l : s.at("log")) out << st.dim(text(l, true)) << "\n";
  }
  return out.str();
}

namespace {

std::string tree_label(const json& n, const style& st) {
  const std::string kind = str(n, "kind");
  std::string label;
  if (kind == "runtime") {
    label = st.bold(str(n, "name")) + " (pid " + std::to_string(num(n, "pid")) + ", " + str(n, "under") + ", up " +
            format_duration_ms(num(n, "uptime_ms")) + ")";
  } else if (kind == "supervisor") {
    label = "supervisor " + st.bold(str(n, "name")) + " [" + st.state(str(n, "state")) + "] " + str(n, "strategy");
    if (!str(n, "intensity").empty()) label += ", restarts " + str(n, "intensity");
    if (num(n, "restarts") > 0) label += ", restarted " + std::to_string(num(n, "restarts")) + "x";
  } else if (kind == "service") {
    label = "service " + st.bold(str(n, "name")) + " [" + st.state(str(n, "state")) + "]";
    if (num(n, "pid") > 0) label += " pid " + std::to_string(num(n, "pid"));
    if (num(n, "uptime_ms") > 0) label += ", up " + format_duration_ms(num(n, "uptime_ms"));
    label += ", " + std::to_string(num(n, "restarts")) + " restarts";
  } else if (kind == "log_sink") {
    label = "log sink " + str(n, "name") + " (" + std::to_string(num(n, "lines")) + " lines)";
  } else if (kind == "cgroup_watcher") {
    label = "cgroup watcher " + str(n, "name") + " [" + str(n, "state") + "]";
    if (num(n, "oom_kills") > 0) label += ", " + std::to_string(num(n, "oom_kills")) + " OOM kills";
  } else if (kind == "readiness_probe") {
    label = "readiness probe: " + str(n, "name");
  } else if (kind == "pid1_link") {
    label = "pid1 link: dynamod-init, runtime generation " + std::to_string(num(n, "generation"));
  } else if (kind == "reaper") {
    label = "reaper: " + std::to_string(num(n, "watched_pids")) + " pids watched, " + std::to_string(num(n, "reaped")) +
            " reaped";
  } else if (kind == "notify_socket") {
    label = "notify socket " + str(n, "name") + ": " + std::to_string(num(n, "registered")) + " registered, " +
            std::to_string(num(n, "received")) + " messages";
  } else if (kind == "dependency_tracker") {
    label = "dependency tracker: " + std::to_string(num(n, "ready")) + "/" + std::to_string(num(n, "services")) +
            " ready, " + std::to_string(num(n, "waiting")) + " waiting";
  } else if (kind == "control_listener") {
    label = "control listener " + str(n, "name") + ": " + std::to_string(num(n, "sessions")) + " session(s)";
  } else if (kind == "dbus_supervisor") {
    label = "supervisor " + st.bold("dbus") + " [" + st.state(str(n, "state")) + "] " + str(n, "strategy") +
            " (the D-Bus actors)";
  } else if (kind == "dbus_jobs") {
    label = "systemd1 jobs: " + std::to_string(num(n, "jobs")) + " running, " + std::to_string(num(n, "started")) +
            " started";
  } else if (kind == "dbus_connection") {
    std::string names;
    for (const auto& b : member(n, "bus_names")) names += (names.empty() ? "" : ", ") + text(b, true);
    label = "D-Bus " + st.bold(str(n, "name")) + " [" + str(n, "state") + "]";
    label += names.empty() ? " owns no name" : " owns " + names;
    if (!str(n, "address").empty()) label += " on " + str(n, "address");
    if (n.contains("sessions")) {
      label += ", " + std::to_string(num(n, "sessions")) + " session(s) of " + std::to_string(num(n, "users")) +
               " user(s)";
    }
    if (num(n, "refused") > 0) label += ", " + std::to_string(num(n, "refused")) + " refused";
    if (num(n, "restarts") > 0) label += ", restarted " + std::to_string(num(n, "restarts")) + "x";
  } else if (kind == "dbus_listener") {
    label = "D-Bus listener " + str(n, "address") + ": " + std::to_string(num(n, "accepted")) + " accepted";
    if (num(n, "turned_away") > 0) label += ", " + std::to_string(num(n, "turned_away")) + " turned away";
  } else {
    label = kind + " " + str(n, "name") + " [" + str(n, "state") + "]";
  }
  if (n.contains("mailbox")) label += st.dim("  mailbox " + std::to_string(num(n, "mailbox")));
  return label;
}

void tree_lines(const json& n, const style& st, const std::string& prefix, bool last, bool root, std::ostringstream& out) {
  out << (root ? "" : prefix + (last ? "└─ " : "├─ ")) << tree_label(n, st) << "\n";
  if (!n.contains("children") || !n.at("children").is_array()) return;
  const auto& kids = n.at("children");
  const std::string next = root ? "" : prefix + (last ? "   " : "│  ");
  for (size_t i = 0; i < kids.size(); ++i) tree_lines(kids[i], st, next, i + 1 == kids.size(), false, out);
}

}  // namespace

std::string render_tree(const json& root, const style& st) {
  std::ostringstream out;
  tree_lines(root, st, "", true, true, out);
  return out.str();
}

std::string render_operation(const std::string& command, const json& reply, const style& st) {
  std::ostringstream out;
  for (const auto& r : member(reply, "results")) {
    const std::string name = str(r, "service");
    if (!str(r, "error").empty()) {
      out << st.state("failed") << " " << name << ": " << str(r, "error") << "\n";
      continue;
    }
    const std::string result = str(r, "result");
    if (result == "requested") {
      out << (command == "stop" ? "Stopping " : command == "start" ? "Starting " : "Restarting ") << name << ".\n";
    } else if (result.rfind("already", 0) == 0) {
      out << name << " is " << result << ".\n";
    } else {
      out << (result == "stopped" ? "Stopped " : result == "restarted" ? "Restarted " : "Started ") << name;
      if (num(r, "pid") > 0) out << " (pid " << num(r, "pid") << ")";
      out << ".\n";
    }
  }
  return out.str();
}

std::string render_reload(const json& diff, const style& st) {
  std::ostringstream out;
  for (const auto& e : member(diff, "errors")) out << st.state("failed") << " " << text(e) << "\n";
  const json& disabled = member(diff, "disabled");
  if (disabled.is_object()) {
    for (const auto& [name, why] : disabled.items()) out << st.dim("disabled " + terminal_safe(name) + ": " + text(why)) << "\n";
  }
  const json& kept = member(diff, "kept");
  if (kept.is_object()) {
    for (const auto& [name, why] : kept.items()) out << paint(st.colour, "33", "! " + terminal_safe(name)) << "  " << text(why) << "\n";
  }
  for (const auto& n : member(diff, "added")) out << paint(st.colour, "32", "+ " + text(n)) << "  (started)\n";
  for (const auto& n : member(diff, "removed")) out << paint(st.colour, "31", "- " + text(n)) << "  (stopped)\n";
  for (const auto& n : member(diff, "changed")) out << paint(st.colour, "33", "~ " + text(n)) << "  (restarted)\n";
  out << "= " << member(diff, "unchanged").size() << " unchanged\n";
  return out.str();
}

std::string render_check(const json& c, const style& st) {
  std::ostringstream out;
  const json& errors = member(c, "errors");
  for (const auto& e : errors) out << st.state("failed") << " " << text(e) << "\n";
  const json& disabled = member(c, "disabled");
  if (disabled.is_object()) {
    for (const auto& [name, why] : disabled.items()) out << terminal_safe(name) << ": disabled: " << text(why) << "\n";
  }
  out << str(c, "config_dir") << ": " << num(c, "services") << " service(s), " << num(c, "supervisors")
      << " supervisor(s), " << errors.size() << " error(s)\n";
  return out.str();
}

}  // namespace dynamod::ctl
