#include "dbus/unit_state.hpp"

#include <cctype>
#include <csignal>
#include <cstring>
#include <string_view>

namespace dynamod::dbus {

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// "SIGKILL" -> 9; 0 when unknown.
int32_t signal_number(std::string_view name) {
  for (int n = 1; n < NSIG; ++n) {
    const char* abbrev = sigabbrev_np(n);
    if (abbrev && name.size() > 3 && name.substr(3) == abbrev) return n;
  }
  return 0;
}

// The number after `prefix` up to a non-digit; 0 if none.
int32_t number_after(const std::string& text, std::string_view prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return 0;
  int32_t n = 0;
  for (size_t i = at + prefix.size(); i < text.size() && text[i] >= '0' && text[i] <= '9' && n < 100000; ++i) {
    n = n * 10 + (text[i] - '0');
  }
  return n;
}

std::string word_after(const std::string& text, std::string_view prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return {};
  size_t end = at + prefix.size();
  while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0)) ++end;
  return text.substr(at + prefix.size(), end - at - prefix.size());
}

}  // namespace

dynamod_state parse_dynamod_state(const std::string& text) {
  if (text == "waiting") return dynamod_state::waiting;
  if (text == "starting") return dynamod_state::starting;
  if (text == "running") return dynamod_state::running;
  if (text == "stopping") return dynamod_state::stopping;
  if (text == "done") return dynamod_state::done;
  if (text == "failed") return dynamod_state::failed;
  if (text == "stopped") return dynamod_state::stopped;
  if (text == "disabled") return dynamod_state::disabled;
  return dynamod_state::unknown;
}

exit_summary summarize_exit(const std::string& last_exit, const std::string& detail) {
  // last_exit is actors/exit_reasons' describe_exit text.
  exit_summary s;
  const bool gave_up = starts_with(detail, "gave up");
  auto result = [&](const char* r) { s.result = gave_up ? "start-limit-hit" : r; };
  if (gave_up) s.result = "start-limit-hit";
  if (last_exit.empty() || starts_with(last_exit, "shutdown")) return s;
  if (starts_with(last_exit, "exited with status ")) {
    s.code = 1;  // CLD_EXITED
    s.status = number_after(last_exit, "exited with status ");
    if (s.status != 0) result("exit-code");
  } else if (starts_with(last_exit, "killed by ")) {
    const bool dumped = last_exit.find("(core dumped)") != std::string::npos;
    s.code = dumped ? 3 : 2;  // CLD_DUMPED, CLD_KILLED
    s.status = signal_number(word_after(last_exit, "killed by "));
    // systemd counts the signals a service is stopped with as a clean end (SuccessExitStatus' defaults).
    const bool clean = !dumped && (s.status == SIGTERM || s.status == SIGINT || s.status == SIGHUP || s.status == SIGPIPE);
    if (!clean) result(dumped ? "core-dump" : "signal");
  } else if (last_exit == "oom") {
    s.code = 2;
    s.status = SIGKILL;
    result("oom-kill");
  } else if (starts_with(last_exit, "readiness timeout")) {
    result("timeout");
  } else if (starts_with(last_exit, "watchdog")) {
    result("watchdog");
  } else {
    result("resources");  // start failed, lost: it could not be run or followed
  }
  return s;
}

unit_state service_unit_state(dynamod_state s) {
  switch (s) {
    case dynamod_state::unknown: return {"not-found", "inactive", "dead"};
    case dynamod_state::waiting: return {"loaded", "inactive", "dead"};  // a start job waits on its dependencies
    case dynamod_state::starting: return {"loaded", "activating", "start"};
    case dynamod_state::running: return {"loaded", "active", "running"};
    case dynamod_state::stopping: return {"loaded", "deactivating", "stop-sigterm"};
    case dynamod_state::done: return {"loaded", "active", "exited"};  // a oneshot that ran: RemainAfterExit
    case dynamod_state::failed: return {"loaded", "failed", "failed"};
    case dynamod_state::stopped: return {"loaded", "inactive", "dead"};
    case dynamod_state::disabled: return {"loaded", "inactive", "dead"};
  }
  return {"not-found", "inactive", "dead"};
}

unit_state target_unit_state(dynamod_state s) {
  switch (s) {
    case dynamod_state::unknown: return {"not-found", "inactive", "dead"};
    case dynamod_state::running: return {"loaded", "active", "active"};
    case dynamod_state::failed: return {"loaded", "failed", "failed"};
    case dynamod_state::starting:
    case dynamod_state::waiting: return {"loaded", "activating", "dead"};
    case dynamod_state::stopping: return {"loaded", "deactivating", "active"};
    default: return {"loaded", "inactive", "dead"};
  }
}

}  // namespace dynamod::dbus
