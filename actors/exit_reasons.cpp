#include "actors/exit_reasons.hpp"

#include <caf/all.hpp>

#include "runtime/process/wait_status.hpp"

namespace dynamod {

caf::atom_value service_exit_category() { return caf::atom("svc"); }

caf::error make_error(service_exit code) { return {static_cast<uint8_t>(code), service_exit_category()}; }

caf::error make_error(service_exit code, std::string detail) {
  return {static_cast<uint8_t>(code), service_exit_category(), caf::make_message(std::move(detail))};
}

caf::error make_error(service_exit code, int value) {
  return {static_cast<uint8_t>(code), service_exit_category(), caf::make_message(value)};
}

std::string render_service_exit(uint8_t code, caf::atom_value, const caf::message& ctx) {
  auto text = [&](const char* what) -> std::string {
    if (ctx.match_elements<std::string>()) return std::string{what} + ": " + ctx.get_as<std::string>(0);
    return what;
  };
  const int value = ctx.match_elements<int>() ? ctx.get_as<int>(0) : 0;
  switch (static_cast<service_exit>(code)) {
    case service_exit::exited: return "exited with status " + std::to_string(value);
    case service_exit::killed: return "killed by " + signal_name(value);
    case service_exit::dumped: return "killed by " + signal_name(value) + " (core dumped)";
    case service_exit::start_failed: return text("start failed");
    case service_exit::readiness_timeout: return text("readiness timeout");
    case service_exit::watchdog: return text("watchdog timeout");
    case service_exit::oom: return "oom";
    case service_exit::shutdown: return "shutdown";
    case service_exit::lost: return text("lost");
    case service_exit::escalated: return text("shutdown (supervisor gave up)");
  }
  return "unknown exit reason " + std::to_string(code);
}

bool is_service_exit(const caf::error& reason) { return reason && reason.category() == service_exit_category(); }

bool is_service_exit(const caf::error& reason, service_exit code) {
  return is_service_exit(reason) && reason.code() == static_cast<uint8_t>(code);
}

std::string describe_exit(const caf::error& reason) {
  if (!reason) return "exited with status 0";
  if (is_service_exit(reason)) {
    return render_service_exit(reason.code(), reason.category(), reason.context());
  }
  if (reason == caf::exit_reason::user_shutdown) return "shutdown";
  if (reason == caf::exit_reason::kill) return "killed";
  return caf::to_string(reason);
}

exit_class classify(const caf::error& reason) {
  if (!reason) return exit_class::normal;
  if (is_service_exit(reason)) {
    const auto code = static_cast<service_exit>(reason.code());
    if (code == service_exit::shutdown || code == service_exit::escalated) return exit_class::shutdown;
    return exit_class::abnormal;
  }
  if (reason == caf::exit_reason::user_shutdown) return exit_class::shutdown;
  return exit_class::abnormal;
}

}  // namespace dynamod
