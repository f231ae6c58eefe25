// login1's inhibitors on the system: /run/systemd/inhibit/<id> (what logind keeps, so a restarted login1 finds
// them again) and the FIFO <id>.ref whose write end the holder keeps; the shutdown that delay inhibitors hold back.
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kManagerPath = "/org/freedesktop/login1";
constexpr const char* kManagerInterface = "org.freedesktop.login1.Manager";

std::string inhibit_dir(const login_state& ls) { return ls.paths.systemd_dir + "/inhibit"; }
std::string fifo_of(const login_state& ls, uint32_t id) { return inhibit_dir(ls) + "/" + std::to_string(id) + ".ref"; }

// Opens the read end (never blocks: O_NONBLOCK) and watches it; false if the FIFO is not there.
bool watch_fifo(bus_state& st, uint32_t id) {
  const int reader = ::open(fifo_of(*st.login, id).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (reader < 0) return false;
  login_watch(st, {login_state::watch::kind::inhibitor, reader, "", id});
  return true;
}

void forget_files(const login_state& ls, uint32_t id) {
  ::unlink((inhibit_dir(ls) + "/" + std::to_string(id)).c_str());
  ::unlink(fifo_of(ls, id).c_str());
}

void announce_inhibited(bus_state& st) {
  if (!st.bus) return;
  const char* names[] = {"BlockInhibited", "DelayInhibited", nullptr};
  sd_bus_emit_properties_changed_strv(st.bus, kManagerPath, kManagerInterface, const_cast<char**>(names));
}

void carry_out_shutdown(bus_state& st) {
  auto& ls = *st.login;
  if (!ls.pending_shutdown) return;
  const auto mode = static_cast<protocol::power_mode>(*ls.pending_shutdown);
  ls.pending_shutdown.reset();
  ++ls.shutdown_generation;  // a timer still running finds nothing to do
  spdlog::info("login1: {} goes ahead", to_string(mode));
  st.self->send(st.args.ctx->runtime, shutdown_atom_v, static_cast<uint8_t>(mode));
}

}  // namespace

int login_inhibitor_taken(bus_state& st, uint32_t id) {
  auto& ls = *st.login;
  const login::inhibitor* i = ls.inhibitors.find(id);
  if (!i) return -1;
  const std::string fifo = fifo_of(ls, id);
  ::unlink(fifo.c_str());  // one a crashed login1 left under this id
  if (::mkfifo(fifo.c_str(), 0600) < 0 || !watch_fifo(st, id)) {
    spdlog::warn("login1: cannot make the FIFO of inhibitor {}: {}", id, strerror(errno));
    ls.inhibitors.remove(id);
    ::unlink(fifo.c_str());
    return -1;
  }
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (writer < 0) {
    login_inhibitor_released(st, id);
    return -1;
  }
  login_write_file(inhibit_dir(ls), std::to_string(id), login::inhibitor_file(*i, fifo));
  spdlog::info("login1: {} inhibitor {} on {} for \"{}\" (uid {}, pid {}): {}", to_string(i->mode), id,
               login::inhibit_what_text(i->what), i->who, i->uid, i->pid, i->why);
  announce_inhibited(st);
  return writer;
}

void login_inhibitor_released(bus_state& st, uint32_t id) {
  auto& ls = *st.login;
  login_unwatch(st, [id](const login_state::watch& w) {
    return w.what == login_state::watch::kind::inhibitor && w.inhibitor == id;
  });
  forget_files(ls, id);
  if (!ls.inhibitors.remove(id)) return;
  spdlog::info("login1: inhibitor {} released", id);
  announce_inhibited(st);
  if (ls.pending_shutdown && !ls.inhibitors.inhibits(login::inhibit_shutdown, login::inhibit_mode::delay)) {
    carry_out_shutdown(st);
  }
  pump(st);
}

void login_restore_inhibitors(bus_state& st) {
  auto& ls = *st.login;
  std::error_code ec;
  std::vector<uint32_t> stale;
  for (const auto& entry : std::filesystem::directory_iterator(inhibit_dir(ls), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto id = static_cast<uint32_t>(std::stoul(name));
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const auto i = login::parse_inhibitor_file(id, text.str());
    if (!i || !ls.inhibitors.restore(*i)) {
      stale.push_back(id);
      continue;
    }
    // A FIFO whose holder closed it meanwhile reads end-of-file at once: released on the first turn.
    if (!watch_fifo(st, id)) {
      ls.inhibitors.remove(id);
      stale.push_back(id);
      continue;
    }
    spdlog::info("login1: inhibitor {} of uid {} carried over", id, i->uid);
  }
  for (uint32_t id : stale) forget_files(ls, id);
}

void login_shutdown(bus_state& st, uint8_t mode, bool delayed) {
  auto& ls = *st.login;
  ls.preparing_for_shutdown = true;
  sd_bus_emit_signal(st.bus, kManagerPath, kManagerInterface, "PrepareForShutdown", "b", 1);
  const char* names[] = {"PreparingForShutdown", nullptr};
  sd_bus_emit_properties_changed_strv(st.bus, kManagerPath, kManagerInterface, const_cast<char**>(names));
  ls.pending_shutdown = mode;
  if (!delayed) {
    carry_out_shutdown(st);
    return;
  }
  spdlog::info("login1: {} waits up to {} ms for its delay inhibitors", to_string(static_cast<protocol::power_mode>(mode)),
               login::kInhibitDelayMaxUsec / 1000);
  st.self->delayed_send(st.self, std::chrono::microseconds(login::kInhibitDelayMaxUsec), inhibit_due_atom_v,
                        ++ls.shutdown_generation);
}

void login_shutdown_due(bus_state& st, uint64_t generation) {
  auto& ls = *st.login;
  if (generation != ls.shutdown_generation || !ls.pending_shutdown) return;
  spdlog::warn("login1: delay inhibitors still held after {} ms; shutting down anyway", login::kInhibitDelayMaxUsec / 1000);
  carry_out_shutdown(st);
}

}  // namespace dynamod::dbus
