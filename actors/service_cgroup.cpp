// The service's cgroup: created with its limits before the process starts, watched while it runs, used to
// signal and kill every process of the service, emptied before the incarnation ends (so nothing a service
// double-forked survives a stop or a restart), and removed.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "actors/cgroup_watcher_actor.hpp"
#include "actors/service_state.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/cgroup/cgroup_settings.hpp"

namespace dynamod::service {

using namespace std::chrono_literals;

namespace {

constexpr auto kDrainTimeout = 5s;  // after cgroup.kill the processes are gone within milliseconds

uint64_t oom_kill_count(const std::string& dir) {
  auto text = read_cgroup_file(dir, "memory.events");
  return text ? parse_flat_keyed(*text)["oom_kill"] : 0;
}

// The main process, and its process group when it leads one (spawned with setsid, it does). A pid it merely
// names (MAINPID=, a pid file) that leads no group gets the signal alone: never a group that is not the service's.
void signal_main(pid_t pid, int signo) {
  if (pid <= 1 || pid == ::getpid()) return;
  if (::getpgid(pid) == pid && ::kill(-pid, signo) == 0) return;
  ::kill(pid, signo);
}

}  // namespace

std::optional<int> prepare_cgroup(self_ptr self, std::string& error) {
  auto& st = self->state;
  const auto& c = config(self);
  if (context(self).cgroup_base.empty()) {
    if (!c.uses_cgroup_limits()) return -1;
    error = "its [cgroup] limits need cgroup v2, which is not available here";
    return std::nullopt;
  }
  st.cgroup_dir = context(self).cgroup_base + "/" + st.args.cgroup_path;
  if (!create_cgroup(context(self).cgroup_base, st.args.cgroup_path, error)) return std::nullopt;
  for (const auto& [file, value] : cgroup_settings(c)) {
    if (!write_cgroup_file(st.cgroup_dir, file, value, error)) {
      error = "cgroup limit " + error;
      return std::nullopt;
    }
  }
  st.oom_kills_seen = oom_kill_count(st.cgroup_dir);
  return join_cgroup_fd(self, error);
}

std::optional<int> join_cgroup_fd(self_ptr self, std::string& error) {
  auto& st = self->state;
  if (st.cgroup_dir.empty()) return -1;
  const int fd = ::open((st.cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    error = st.cgroup_dir + "/cgroup.procs: " + std::strerror(errno);
    return std::nullopt;
  }
  return fd;
}

namespace {

// Adopted from another place in the tree (a reload moved the service to another supervisor): its processes sit
// in the old supervisor's cgroup. They move into ours, with our limits, and the old leaf goes.
bool move_into_own_cgroup(self_ptr self) {
  auto& st = self->state;
  std::ifstream in("/proc/" + std::to_string(st.pid) + "/cgroup");
  std::string line, old_dir;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) {
      old_dir = std::filesystem::path(context(self).cgroup_base).parent_path().string() + line.substr(3);
    }
  }
  if (old_dir.rfind(context(self).cgroup_base + "/", 0) != 0 || old_dir == st.cgroup_dir) return false;
  std::string error;
  const auto fd = prepare_cgroup(self, error);
  if (!fd) {
    spdlog::warn("{}: cannot make its cgroup: {}; it stays in {}", config(self).name, error, old_dir);
    return false;
  }
  if (*fd >= 0) ::close(*fd);
  for (pid_t pid : cgroup_pids(old_dir)) {
    if (!write_cgroup_file(st.cgroup_dir, "cgroup.procs", std::to_string(pid), error)) {
      spdlog::warn("{}: moving pid {} into its cgroup: {}", config(self).name, pid, error);
    }
  }
  if (!cgroup_populated(old_dir)) remove_cgroup(old_dir);
  spdlog::info("{}: moved its processes from {} into {}", config(self).name, old_dir, st.cgroup_dir);
  return true;
}

}  // namespace

void watch_cgroup(self_ptr self) {
  auto& st = self->state;
  if (context(self).cgroup_base.empty() || st.cgroup_watcher) return;
  if (st.cgroup_dir.empty()) {  // adopted: the cgroup the previous runtime made, if it made one
    st.cgroup_dir = context(self).cgroup_base + "/" + st.args.cgroup_path;
    if (::access(st.cgroup_dir.c_str(), F_OK) != 0 && !move_into_own_cgroup(self)) {
      st.cgroup_dir.clear();
      return;
    }
    st.oom_kills_seen = oom_kill_count(st.cgroup_dir);
  }
  st.cgroup_watcher = spawn_cgroup_watcher(self, cgroup_watcher_args{st.cgroup_dir, st.args.context});
  // It goes with the incarnation however that ends: a clean exit (status 0) does not take linked actors along,
  // and the event loop's strong handle on its armed watches would keep it (and two descriptors) forever.
  self->attach_functor([watcher = st.cgroup_watcher.address()](const caf::error&) {
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  });
}

void signal_service(self_ptr self, int signo) {
  auto& st = self->state;
  const pid_t pid = st.pid;
  if (signo == SIGKILL && !st.cgroup_dir.empty()) {
    kill_cgroup(st.cgroup_dir);
    // And the main process directly, should it be outside the cgroup (adopted from an older layout, a
    // MAINPID= elsewhere): a stop must end it.
    signal_main(pid, SIGKILL);
    return;
  }
  // The service leads its own process group (setsid): signal the group, so the helpers it forked go too.
  signal_main(pid, signo);
  // And what left the group but not the cgroup (a double-forked daemon), as systemd's KillMode=control-group;
  // in a pid namespace dynamod-nsinit passes the signal on, and its end takes the namespace with it.
  const auto& ns = config(self).namespaces;
  const bool nsinit = std::find(ns.begin(), ns.end(), "pid") != ns.end() && !config(self).service_is_pid1;
  if (!st.cgroup_dir.empty() && signo != SIGABRT && !nsinit) signal_cgroup(st.cgroup_dir, signo, pid);
  if (signo == SIGTERM || signo == SIGHUP || signo == SIGINT) {
    signal_main(pid, SIGCONT);  // a stopped process cannot act on the signal
    if (!st.cgroup_dir.empty() && !nsinit) signal_cgroup(st.cgroup_dir, SIGCONT, pid);
  }
}

bool oom_struck(self_ptr self) {
  auto& st = self->state;
  if (st.cgroup_dir.empty()) return false;
  const uint64_t kills = oom_kill_count(st.cgroup_dir);
  if (kills <= st.oom_kills_seen) return false;
  st.oom_kills_seen = kills;
  return true;
}

bool drain_cgroup(self_ptr self) {
  auto& st = self->state;
  if (st.cgroup_dir.empty()) return false;
  // The usual case, an empty cgroup, costs one rmdir (no file opened): it fails with EBUSY while processes are
  // in it, or child cgroups (then the populated flag decides).
  if (const int err = remove_cgroup(st.cgroup_dir); err == 0 || err == ENOENT) return false;
  if (!cgroup_populated(st.cgroup_dir)) return false;
  const auto left = cgroup_pids(st.cgroup_dir).size();
  // Worth a warning: something escaped the main process's group (a daemon that double-forked, a stray child).
  spdlog::warn("{}: killing {} process(es) left in its cgroup", config(self).name, left);
  kill_cgroup(st.cgroup_dir);
  self->delayed_send(self, kDrainTimeout, timeout_atom_v, kDrainTimer, ++st.timer_generation[kDrainTimer]);
  return true;
}

void remove_service_cgroup(self_ptr self) {
  auto& st = self->state;
  if (st.cgroup_dir.empty()) return;
  if (remove_cgroup(st.cgroup_dir) != EBUSY) return;  // removed now, or drain_cgroup did
  if (cgroup_populated(st.cgroup_dir)) {
    spdlog::warn("{}: processes are still in {} after SIGKILL", config(self).name, st.cgroup_dir);
  }
}

}  // namespace dynamod::service
