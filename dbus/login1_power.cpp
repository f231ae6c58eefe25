// org.freedesktop.login1.Manager's power methods and inhibitors (../shared/spec/dbus.md §3). Without polkit:
// powering off, rebooting and halting are root's; anyone may take a delay inhibitor, a block one needs root or a
// local session (logind's default policy). Root goes past block inhibitors unless it asks to be held to them
// (flag SD_LOGIND_ROOT_CHECK_INHIBITORS); delay inhibitors hold a shutdown back for at most InhibitDelayMaxUSec
// after PrepareForShutdown(true).
#include "dbus/login1_power.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <string>

#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::dbus::login1_power {

namespace {

constexpr const char* kOperationInProgress = "org.freedesktop.login1.OperationInProgress";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }

bool has_local_session(const login_state& ls, uint32_t uid) {
  for (const auto* s : ls.registry.sessions()) {
    if (s->from.uid == uid && !s->from.remote && !s->from.seat.empty() && !s->closing) return true;
  }
  return false;
}

int power(sd_bus_message* m, void* ud, sd_bus_error* error, protocol::power_mode mode, bool with_flags) {
  uint64_t flags = 0;
  int r = 0;
  if (with_flags) {
    r = sd_bus_message_read(m, "t", &flags);
  } else {
    int interactive = 0;
    r = sd_bus_message_read(m, "b", &interactive);
  }
  if (r < 0) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, with_flags ? "Expected (t)." : "Expected (b).");
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  require_root(*s, m, [s, call, mode, flags] {
    auto& ls = *s->login;
    if (ls.pending_shutdown) {
      reply_error(call.get(), kOperationInProgress, "There's already a shutdown or sleep operation in progress");
      pump(*s);
      return;
    }
    const auto verdict = login::decide_shutdown(ls.inhibitors, 0, flags);
    if (verdict.refused) {
      spdlog::info("login1: {} refused: {}", to_string(mode), verdict.message);
      reply_error(call.get(), SD_BUS_ERROR_ACCESS_DENIED, verdict.message);
      pump(*s);
      return;
    }
    spdlog::info("login1: {} requested ({})", to_string(mode), sd_bus_message_get_member(call.get()));
    sd_bus_reply_method_return(call.get(), "");
    login_shutdown(*s, static_cast<uint8_t>(mode), verdict.delayed);
    pump(*s);
  });
  return 1;
}

}  // namespace

int power_off(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::poweroff, false); }
int reboot(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::reboot, false); }
int halt(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::halt, false); }
int power_off_with_flags(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::poweroff, true); }
int reboot_with_flags(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::reboot, true); }
int halt_with_flags(sd_bus_message* m, void* ud, sd_bus_error* e) { return power(m, ud, e, protocol::power_mode::halt, true); }

int sleep(sd_bus_message*, void*, sd_bus_error* error) {
  return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "dynamod does not suspend or hibernate");
}

// Can*: root may power off, reboot and halt; others could only through polkit, which dynamod does not have.
int can_power(sd_bus_message* m, void* ud, sd_bus_error*) {
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  with_caller(*s, m, [s, call](caller c) {
    sd_bus_reply_method_return(call.get(), "s", c.uid && *c.uid == 0 ? "yes" : "no");
    pump(*s);
  });
  return 1;
}

int can_sleep(sd_bus_message* m, void*, sd_bus_error*) { return sd_bus_reply_method_return(m, "s", "na"); }

int inhibit(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char *what = nullptr, *who = nullptr, *why = nullptr, *mode = nullptr;
  if (sd_bus_message_read(m, "ssss", &what, &who, &why, &mode) < 0) {
    return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Expected (ssss).");
  }
  const auto bits = login::parse_inhibit_what(what);
  if (!bits) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid what specification.");
  const auto how = login::parse_inhibit_mode(mode);
  if (!how) return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid mode specification.");
  login::inhibitor wanted;
  wanted.what = *bits;
  wanted.mode = *how;
  wanted.who = who;
  wanted.why = why;
  bus_state* s = &state_of(ud);
  auto call = keep(m);
  with_caller(*s, m, [s, call, wanted](caller c) mutable {
    auto& ls = *s->login;
    if (!c.uid || !login::may_inhibit(wanted.mode, *c.uid, has_local_session(ls, *c.uid))) {
      ++s->refused;
      reply_error(call.get(), SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
      pump(*s);
      return;
    }
    wanted.uid = *c.uid;
    wanted.pid = c.pid.value_or(0);
    auto added = ls.inhibitors.add(wanted);
    if (auto* refused = std::get_if<login::inhibitor_registry::refusal>(&added)) {
      reply_error(call.get(), refused->error.c_str(), refused->message);
      pump(*s);
      return;
    }
    const int fd = login_inhibitor_taken(*s, std::get<uint32_t>(added));
    if (fd < 0) {
      reply_error(call.get(), SD_BUS_ERROR_FAILED, "Cannot make the inhibitor's FIFO");
    } else {
      sd_bus_reply_method_return(call.get(), "h", fd);  // sd-bus sends a duplicate
      ::close(fd);
    }
    pump(*s);
  });
  return 1;
}

int list_inhibitors(sd_bus_message* m, void* ud, sd_bus_error*) {
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "(ssssuu)");
  for (const auto& [id, i] : state_of(ud).login->inhibitors.all()) {
    if (r < 0) break;
    r = sd_bus_message_append(reply, "(ssssuu)", login::inhibit_what_text(i.what).c_str(), i.who.c_str(), i.why.c_str(),
                              login::to_string(i.mode), i.uid, i.pid);
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r < 0 ? r : 1;
}

int get_inhibited(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const auto mode = std::string(property) == "BlockInhibited" ? login::inhibit_mode::block : login::inhibit_mode::delay;
  return sd_bus_message_append(reply, "s", login::inhibit_what_text(state_of(ud).login->inhibitors.inhibited(mode)).c_str());
}

int get_n_inhibitors(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  return sd_bus_message_append(reply, "t", static_cast<uint64_t>(state_of(ud).login->inhibitors.all().size()));
}

int get_preparing_for_shutdown(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  return sd_bus_message_append(reply, "b", state_of(ud).login->preparing_for_shutdown ? 1 : 0);
}

}  // namespace dynamod::dbus::login1_power
