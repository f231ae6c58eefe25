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
#include "runtime/process/unclaimed_exits.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

struct reaper_state {
  std::unordered_map<int, caf::actor> owners;
  // Exits that arrived before their owner registered (a fast-failing child), or of processes nobody
  // owns (orphans of services that the runtime, as subreaper, inherited). Kept briefly and bounded, by pid and
  // start time: an old entry must never be handed to a new process that happens to get the same pid.
  unclaimed_exits unclaimed{4096, std::chrono::seconds(10)};  // an owner registers within milliseconds
  caf::actor pid1_link;
  uint64_t reaped = 0;
  static inline const char* name = "reaper";
};

namespace {

std::optional<uint64_t> start_time_of(pid_t pid) {
  auto proc = read_proc_status(pid);
  return proc ? std::optional<uint64_t>{proc->start_time} : std::nullopt;
}

void deliver(caf::stateful_actor<reaper_state>* self, int pid, int status, uint64_t start_time = 0) {
  auto& st = self->state;
  auto it = st.owners.find(pid);
  if (it != st.owners.end()) {
    self->send(it->second, child_exit_atom_v, pid, status);
    st.owners.erase(it);
    if (st.pid1_link) self->send(st.pid1_link, untrack_atom_v, pid);
    return;
  }
  st.unclaimed.add(pid, status, start_time, std::chrono::steady_clock::now());
}

void watch(caf::stateful_actor<reaper_state>* self, int pid, caf::actor owner) {
  auto& st = self->state;
  if (auto status = st.unclaimed.claim(pid, start_time_of(pid), std::chrono::steady_clock::now())) {
    self->send(owner, child_exit_atom_v, pid, *status);
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
          // Look first (WNOWAIT): the zombie's start time keys an exit nobody claims yet.
          siginfo_t info{};
          if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid <= 0) break;
          const pid_t peeked = info.si_pid;
          // Only an exit nobody owns yet is kept by start time; an owned one is delivered at once (no /proc read).
          const uint64_t start_time =
              self->state.owners.count(peeked) ? 0 : start_time_of(peeked).value_or(0);
          int status = 0;
          const pid_t pid = ::waitpid(peeked, &status, WNOHANG);
          if (pid <= 0) break;
          ++self->state.reaped;
          deliver(self, pid, status, start_time);
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
