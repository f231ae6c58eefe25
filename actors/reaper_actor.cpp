#include "actors/reaper_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_map>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/process/unclaimed_exits.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

namespace {

// SIGCHLD scans are O(children) each (the kernel walks every child): at most one per interval, which grows with
// the children watched by pidfd, so a stop of ten thousand services costs a bounded number of scans, not one
// per exit. What a scan is for, orphans nobody owns, can wait that long; owned processes report through pidfds.
// A scan reaps every zombie it meets, each found by a walk from the first child, so it also waits while pidfd
// exits keep arriving (a mass stop): run amid them it would reap their backlog at O(children) apiece. It waits
// at most kLongestScanWait: then it reaps the backlog, O(children) per zombie, so not every interval of a storm
// (at 2 s, a 10,000-service stop under TCG still spent 9% of its samples in waitid).
constexpr std::chrono::seconds kLongestScanInterval{2};
constexpr std::chrono::seconds kLongestScanWait{10};
std::chrono::microseconds scan_interval(size_t pidfds) {
  const auto interval = std::chrono::microseconds(20000 + 100 * static_cast<int64_t>(pidfds));
  return std::min(interval, std::chrono::microseconds(kLongestScanInterval));
}

}  // namespace

struct reaper_state {
  std::unordered_map<int, caf::actor> owners;
  // Exits that arrived before their owner registered (a fast-failing child), or of processes nobody
  // owns (orphans of services that the runtime, as subreaper, inherited). Kept briefly and bounded, by pid and
  // start time: an old entry must never be handed to a new process that happens to get the same pid.
  unclaimed_exits unclaimed{4096, std::chrono::seconds(10)};  // an owner registers within milliseconds
  std::unordered_map<int, int> pidfds;  // pid -> pidfd of a child the runtime spawned
  caf::actor pid1_link;
  event_loop* loop = nullptr;
  std::chrono::steady_clock::time_point last_scan{};
  bool scan_scheduled = false;
  std::chrono::steady_clock::time_point scan_wanted{};  // the SIGCHLD the scheduled scan is for
  uint64_t reaped_by_pidfd = 0;                         // counts pidfd reaps; a change since the tick was set: not quiet
  uint64_t reaped_by_pidfd_at_schedule = 0;
  uint64_t reaped = 0;
  uint64_t scans = 0;
  static inline const char* name = "reaper";

  void close_pidfd(int pid) {
    auto it = pidfds.find(pid);
    if (it == pidfds.end()) return;
    loop->forget(it->second);
    ::close(it->second);
    pidfds.erase(it);
  }
  ~reaper_state() {
    for (const auto& [pid, fd] : pidfds) {
      loop->forget(fd);
      ::close(fd);
    }
  }
};

namespace {

using self_ptr = caf::stateful_actor<reaper_state>*;

std::optional<uint64_t> start_time_of(pid_t pid) {
  auto proc = read_proc_status(pid);
  return proc ? std::optional<uint64_t>{proc->start_time} : std::nullopt;
}

void deliver(self_ptr self, int pid, int status, uint64_t start_time = 0) {
  auto& st = self->state;
  st.close_pidfd(pid);
  auto it = st.owners.find(pid);
  if (it != st.owners.end()) {
    self->send(it->second, child_exit_atom_v, pid, status);
    st.owners.erase(it);
    if (st.pid1_link) self->send(st.pid1_link, untrack_atom_v, pid);
    return;
  }
  st.unclaimed.add(pid, status, start_time, std::chrono::steady_clock::now());
}

// An owner registers `pid`: its exit may have been collected already.
bool deliver_unclaimed(self_ptr self, int pid, const caf::actor& owner) {
  auto& st = self->state;
  if (!st.unclaimed.contains(pid)) return false;
  auto status = st.unclaimed.claim(pid, start_time_of(pid), std::chrono::steady_clock::now());
  if (!status) return false;
  self->send(owner, child_exit_atom_v, pid, *status);
  return true;
}

// `pid` is `owner`'s from now on; with a pidfd (ours from now on), its exit is reaped when that turns readable.
void keep(self_ptr self, int pid, caf::actor owner, int pidfd) {
  auto& st = self->state;
  st.owners[pid] = std::move(owner);
  if (st.pid1_link) self->send(st.pid1_link, track_atom_v, pid);
  if (pidfd < 0) return;
  st.close_pidfd(pid);  // a stale registration under the same pid, should one be left
  st.pidfds[pid] = pidfd;
  if (!st.loop->watch(pidfd, EPOLLIN, caf::actor_cast<caf::actor>(self), static_cast<uint64_t>(pid))) {
    // The next SIGCHLD scan reaps it instead.
    spdlog::error("reaper: cannot watch the pidfd of pid {}: {}", pid, std::strerror(errno));
  }
}

// A child the runtime spawned, with its pidfd.
void watch_spawned(self_ptr self, int pid, int pidfd, caf::actor owner) {
  if (deliver_unclaimed(self, pid, owner)) {  // a SIGCHLD scan reaped it before this registration came
    ::close(pidfd);
    return;
  }
  keep(self, pid, std::move(owner), pidfd);
}

// A pid the runtime did not spawn itself (a forking service's daemon, MAINPID=): watched by a pidfd of its own
// too, so its exit does not wait for a scan. Not our child (PID 1's, a grandchild): the wait on it fails and
// the exit comes from elsewhere (PID 1 forwards it; the service watches a grandchild itself).
void watch(self_ptr self, int pid, caf::actor owner) {
  if (deliver_unclaimed(self, pid, owner)) return;
  const int pidfd = self->state.pidfds.count(pid) ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  keep(self, pid, std::move(owner), pidfd);
}

// A spawned child's pidfd turned readable: it exited (or a scan reaped it meanwhile).
void reap_by_pidfd(self_ptr self, int pid) {
  auto& st = self->state;
  if (st.pidfds.count(pid) == 0) return;
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got == 0) {  // an event meant for the descriptor's previous holder: watch again
    st.loop->watch(st.pidfds[pid], EPOLLIN, caf::actor_cast<caf::actor>(self), static_cast<uint64_t>(pid));
    return;
  }
  if (got < 0) {  // reaped by a scan and delivered then, or not our child
    st.close_pidfd(pid);
    return;
  }
  ++st.reaped;
  ++st.reaped_by_pidfd;
  deliver(self, pid, status);
}

// Every exited child that can be waited for: orphans the runtime inherited as subreaper, and children whose
// pidfd event has not been handled yet. Each zombie is found by a walk from the first child, so a scan that is
// not `full` stops at the first zombie its pidfd will report (in a mass stop, a backlog of them) and says so:
// false, try again later.
bool scan(self_ptr self, bool full) {
  auto& st = self->state;
  st.last_scan = std::chrono::steady_clock::now();
  ++st.scans;
  for (;;) {
    // Look first (WNOWAIT): the zombie's start time keys an exit nobody claims yet.
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid <= 0) return true;
    const pid_t peeked = info.si_pid;
    if (!full && st.pidfds.count(peeked) != 0) return false;
    // Only an exit nobody owns yet is kept by start time; an owned one is delivered at once (no /proc read).
    const uint64_t start_time = st.owners.count(peeked) ? 0 : start_time_of(peeked).value_or(0);
    int status = 0;
    const pid_t pid = ::waitpid(peeked, &status, WNOHANG);
    if (pid <= 0) return true;
    ++st.reaped;
    deliver(self, pid, status, start_time);
  }
}

void schedule_scan(self_ptr self) {
  auto& st = self->state;
  st.reaped_by_pidfd_at_schedule = st.reaped_by_pidfd;
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(scan_interval(st.pidfds.size())),
                     tick_atom_v);
}

}  // namespace

static caf::behavior reaper_actor(self_ptr self, caf::actor pid1_link, event_loop* loop) {
  self->state.pid1_link = std::move(pid1_link);
  self->state.loop = loop;
  return {
      [=](sigchld_atom) {
        auto& st = self->state;
        if (st.scan_scheduled) return;
        // With pidfds to watch, most SIGCHLDs are of processes whose pidfd reports them too: the scan waits an
        // interval, by when those are reaped, and walks the children once for what is left (orphans).
        const auto since = std::chrono::steady_clock::now() - st.last_scan;
        const auto interval = scan_interval(st.pidfds.size());
        if (st.pidfds.empty() && since >= interval) {
          scan(self, true);
          return;
        }
        st.scan_scheduled = true;
        st.scan_wanted = std::chrono::steady_clock::now();
        schedule_scan(self);
      },
      [=](tick_atom) {
        auto& st = self->state;
        const bool overdue = std::chrono::steady_clock::now() - st.scan_wanted >= kLongestScanWait;
        const bool quiet = st.reaped_by_pidfd == st.reaped_by_pidfd_at_schedule;
        // While pidfd exits keep arriving, a scan would mostly meet their zombies: wait for a quiet interval.
        if (!overdue && (!quiet || !scan(self, false))) {
          schedule_scan(self);
          return;
        }
        if (overdue) scan(self, true);
        st.scan_scheduled = false;
      },
      [=](io_ready_atom, uint64_t tag, uint32_t) { reap_by_pidfd(self, static_cast<int>(tag)); },
      // A service drained its cgroup: what it killed is reaped now, not at the next scheduled scan.
      [=](reap_now_atom) {
        scan(self, true);
        return true;
      },
      [=](watch_pid_atom, int pid, int pidfd, caf::actor owner) { watch_spawned(self, pid, pidfd, std::move(owner)); },
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
        return json_text(nlohmann::json{{"kind", "reaper"}, {"name", "reaper"}, {"state", "running"},
                                        {"watched_pids", st.owners.size()}, {"pidfds", st.pidfds.size()},
                                        {"reaped", st.reaped}, {"scans", st.scans},
                                        {"mailbox", self->mailbox().size()}});
      },
      // Forwarded by the PID 1 link: a re-adopted service process was reaped by PID 1.
      [=](child_exit_atom, int pid, int status) { deliver(self, pid, status); },
  };
}

caf::actor spawn_reaper(caf::event_based_actor* parent, caf::actor pid1_link, event_loop* loop) {
  return parent->spawn<caf::linked>(reaper_actor, std::move(pid1_link), loop);
}

}  // namespace dynamod
