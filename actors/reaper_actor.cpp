#include "actors/reaper_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"

namespace dynamod {

struct reaper_state {
  std::unordered_map<int, caf::actor> owners;
  // Exits that arrived before their owner registered (a fast-failing child), or of processes nobody
  // owns (orphans of services that the runtime, as subreaper, inherited). Kept briefly and bounded: an old
  // entry must never be handed to a new process that happens to get the same pid.
  struct unclaimed_exit {
    int status;
    std::chrono::steady_clock::time_point at;
  };
  std::unordered_map<int, unclaimed_exit> unclaimed;
  caf::actor pid1_link;
  uint64_t reaped = 0;
  static inline const char* name = "reaper";
};

namespace {
constexpr size_t kMaxUnclaimed = 4096;
constexpr auto kUnclaimedLifetime = std::chrono::seconds(10);  // an owner registers within milliseconds

// Drops entries past their lifetime and, if still full, the oldest: a rare path (orphans, fast failures).
void forget_old_unclaimed(reaper_state& st) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(st.unclaimed, [&](const auto& e) { return now - e.second.at >= kUnclaimedLifetime; });
  if (st.unclaimed.size() < kMaxUnclaimed) return;
  st.unclaimed.erase(std::min_element(st.unclaimed.begin(), st.unclaimed.end(), [](const auto& a, const auto& b) {
    return a.second.at < b.second.at;
  }));
}

void deliver(caf::stateful_actor<reaper_state>* self, int pid, int status) {
  auto& st = self->state;
  auto it = st.owners.find(pid);
  if (it != st.owners.end()) {
    self->send(it->second, child_exit_atom_v, pid, status);
    st.owners.erase(it);
    if (st.pid1_link) self->send(st.pid1_link, untrack_atom_v, pid);
    return;
  }
  forget_old_unclaimed(st);
  st.unclaimed[pid] = reaper_state::unclaimed_exit{status, std::chrono::steady_clock::now()};
}
void watch(caf::stateful_actor<reaper_state>* self, int pid, caf::actor owner) {
  auto& st = self->state;
  forget_old_unclaimed(st);
  auto it = st.unclaimed.find(pid);
  if (it != st.unclaimed.end()) {
    self->send(owner, child_exit_atom_v, pid, it->second.status);
    st.unclaimed.erase(it);
    return;
  }
  st.owners[pid] = std::move(owner);
  if (st.pid1_link) self->send(st.pid1_link, track_atom_v, pid);
}
}  // namespace

static caf::behavior reaper_actor(caf::stateful_actor<reaper_state>* self, caf::actor pid1_link) {
  self->state.pid1_link = std::move(pid1_link);
  return {
      [=](sigchld_atom) {
        for (;;) {
          int status = 0;
          const pid_t pid = ::waitpid(-1, &status, WNOHANG);
          if (pid <= 0) break;
          ++self->state.reaped;
          deliver(self, pid, status);
        }
      },
      [=](watch_pid_atom, int pid, caf::actor owner) { watch(self, pid, std::move(owner)); },
      // A pid a service named (MAINPID=, pid file): it may not take over another owner's registration.
      [=](watch_pid_atom, int pid, caf::actor owner, bool claimed) {
        auto& st = self->state;
        auto it = st.owners.find(pid);
        if (claimed && (pid <= 1 || pid == ::getpid() || (it != st.owners.end() && it->second != owner))) {
          spdlog::warn("reaper: refused a claim on pid {}: it is {}", pid,
                       pid <= 1 || pid == ::getpid() ? "not a service's" : "registered to another owner");
          return;
        }
        watch(self, pid, std::move(owner));
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "reaper"}, {"name", "reaper"}, {"state", "running"}, {"watched_pids", st.owners.size()},
                              {"reaped", st.reaped}, {"mailbox", self->mailbox().size()}});
      },
      // Forwarded by the PID 1 link: a re-adopted service process was reaped by PID 1.
      [=](child_exit_atom, int pid, int status) { deliver(self, pid, status); },
  };
}

caf::actor spawn_reaper(caf::event_based_actor* parent, caf::actor pid1_link) {
  return parent->spawn<caf::linked>(reaper_actor, std::move(pid1_link));
}

}  // namespace dynamod
