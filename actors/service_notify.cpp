// sd_notify datagrams for one incarnation: who may speak (notify-access), what MAINPID= may name, and what the
// fields do to the lifecycle.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "actors/service_state.hpp"
#include "behaviours/notify_policy.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod::service {

namespace {

constexpr auto kRefusalWindow = std::chrono::seconds(10);
constexpr uint64_t kRefusalWarningsPerWindow = 5;

// A refused message or claim: counted; at most kRefusalWarningsPerWindow warnings per kRefusalWindow (a hostile
// service must not flood the log), the next one saying how many were refused meanwhile; the rest at debug level.
void refuse_notify(self_ptr self, int sender, const std::string& why) {
  auto& st = self->state;
  ++st.notify_refused;
  const auto now = std::chrono::steady_clock::now();
  if (st.notify_refused == 1 || now - st.last_refusal_log >= kRefusalWindow) {
    st.last_refusal_log = now;  // a new window
    st.refusals_in_window = 0;
  }
  if (++st.refusals_in_window > kRefusalWarningsPerWindow) {
    spdlog::debug("{}: notify message from pid {} ignored: {}", config(self).name, sender, why);
    return;
  }
  const uint64_t unreported = st.notify_refused - st.notify_refused_logged - 1;
  spdlog::warn("{}: notify message from pid {} ignored: {}{}", config(self).name, sender, why,
               unreported > 0 ? " (and " + std::to_string(unreported) + " more refused before)" : std::string{});
  st.notify_refused_logged = st.notify_refused;
}

// MAINPID=: only a process of the service itself (its cgroup; without one, a descendant of its main process).
void claim_main_pid(self_ptr self, const std::string& value, int sender) {
  auto& st = self->state;
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(value.c_str(), &end, 10);
  behaviours::main_pid_claim claim;
  claim.candidate = (errno == 0 && end != value.c_str() && *end == '\0' && parsed > 0 && parsed < (1L << 30))
                        ? static_cast<pid_t>(parsed)
                        : 0;
  if (claim.candidate == st.pid && claim.candidate > 0) return;
  claim.current_main = st.pid;
  claim.runtime_pid = ::getpid();
  const auto proc = claim.candidate > 0 ? read_proc_status(claim.candidate) : std::nullopt;
  claim.alive = proc && !proc->zombie;
  if (!st.cgroup_dir.empty()) {
    const auto pids = cgroup_pids(st.cgroup_dir);
    claim.in_service_cgroup = std::find(pids.begin(), pids.end(), claim.candidate) != pids.end();
  } else {
    claim.descends_from_main = behaviours::descends_from(claim.candidate, st.pid, claim.runtime_pid, [](pid_t p) {
      auto s = read_proc_status(p);
      return s ? std::optional<pid_t>{s->parent} : std::nullopt;
    });
  }
  if (claim.candidate > 0 && (claim.candidate == st.stop_pid || claim.candidate == st.check_pid)) {
    refuse_notify(self, sender, "MAINPID=" + value.substr(0, 32) + " refused: it is the " +
                                    (claim.candidate == st.stop_pid ? "stop command" : "readiness check"));
    return;
  }
  if (auto why = behaviours::refuse_main_pid(claim)) {
    refuse_notify(self, sender, "MAINPID=" + value.substr(0, 32) + " refused: " + *why);
    return;
  }
  spdlog::info("{}: main pid is now {} (was {}, told by pid {})", config(self).name, claim.candidate, st.pid, sender);
  forget_process(self, st.pid);
  st.pid = claim.candidate;
  st.proc_start_time = proc->start_time;
  watch_process(self, st.pid, true);
  // Not our child (a grandchild, say): its own parent reaps it, so only a pidfd can tell us that it ended.
  if (st.pidfd >= 0) {
    context(self).loop->forget(st.pidfd);
    ::close(st.pidfd);
    st.pidfd = -1;
  }
  if (proc->parent != ::getpid()) {
    st.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
    if (st.pidfd >= 0) context(self).loop->watch(st.pidfd, EPOLLIN, caf::actor_cast<caf::actor>(self), 1);
  }
  save_adoption_record(self);
  report(self);  // status and list show the new main pid
}

}  // namespace

void handle_notify(self_ptr self, const notify_fields& fields, int sender) {
  auto& st = self->state;
  if (st.draining) return;  // ended: a late MAINPID= or READY=1 must not revive it
  const auto& c = config(self);
  if (!behaviours::notify_sender_allowed(c.notify_access_mode, sender, st.pid, st.stop_pid)) {
    const char* who = c.notify_access_mode == notify_access::none   ? "nobody may notify"
                      : c.notify_access_mode == notify_access::exec ? "neither the main process nor the stop command"
                                                                     : "not the main process";
    refuse_notify(self, sender, std::string{who} + " (notify-access = \"" + to_string(c.notify_access_mode) + "\")");
    return;
  }
  bool status_changed = false;
  for (const auto& [key, value] : fields) {
    if (key == "READY" && value == "1") {
      if (config(self).readiness == readiness_type::notify) execute(self, st.lifecycle->on_ready());
    } else if (key == "STATUS") {
      st.status_text = value;
      status_changed = true;
    } else if (key == "ERRNO") {
      st.status_errno = std::atoi(value.c_str());
    } else if (key == "STOPPING" && value == "1") {
      execute(self, st.lifecycle->on_stopping_notice());
    } else if (key == "WATCHDOG" && value == "1") {
      execute(self, st.lifecycle->on_watchdog_ping());
    } else if (key == "WATCHDOG" && value == "trigger") {
      execute(self, st.lifecycle->on_watchdog_trigger());
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      const long long usec = std::atoll(value.c_str());
      if (usec > 0) execute(self, st.lifecycle->on_extend_timeout(std::chrono::milliseconds{usec / 1000}));
    } else if (key == "MAINPID") {
      claim_main_pid(self, value, sender);
    }
  }
  if (status_changed) {
    report(self);
    save_adoption_record(self);
  }
}

}  // namespace dynamod::service
