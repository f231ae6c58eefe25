// A logged-in user's session bus: what systemd gets from user@UID.service (dbus.socket + dbus.service of the
// user's manager), dynamod's login1 does itself, with no user manager. At the user's first session it binds
// /run/user/UID/bus and starts `dbus-daemon --session --address=systemd:` as the user on that socket (socket
// activation), before CreateSession answers: pam_systemd then finds the socket and sets DBUS_SESSION_BUS_ADDRESS.
// The daemon runs in the user's slice (user-UID.slice/session-bus.scope) until their last session ends; one that
// died is replaced at the user's next login.
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/login_state.hpp"
#include "runtime/process/credentials.hpp"
#include "runtime/process/spawn.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The listening socket, owned by the user (its directory is theirs alone); -1 on failure.
int bind_bus_socket(const std::string& path, uint32_t uid, uint32_t gid) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::chown(path.c_str(), uid, gid) < 0 ||
      ::chmod(path.c_str(), 0600) < 0 || ::listen(fd, 128) < 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int session_bus_cgroup(const login_state& ls, uint32_t uid) {
  if (ls.paths.cgroup_root.empty()) return -1;
  const std::string scope = ls.paths.cgroup_root + "/user.slice/user-" + std::to_string(uid) + ".slice/session-bus.scope";
  if (::mkdir(scope.c_str(), 0755) < 0 && errno != EEXIST) return -1;
  return ::open((scope + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
}

}  // namespace

void login_start_user_bus(bus_state& st, const login::user& u) {
  auto& ls = *st.login;
  const std::string daemon = find_executable("dbus-daemon", kPath);
  if (daemon.empty()) {
    spdlog::info("login1: no dbus-daemon here: {} gets no session bus", u.name);
    return;
  }
  std::string error;
  auto who = resolve_credentials(u.name, "", {}, error);
  if (!who) {
    spdlog::warn("login1: no session bus for {}: {}", u.name, error);
    return;
  }
  const std::string path = ls.paths.user_runtime_dir + "/" + std::to_string(u.uid) + "/bus";
  const int listener = bind_bus_socket(path, u.uid, u.gid);
  if (listener < 0) {
    spdlog::warn("login1: no session bus for {}: cannot listen on {}: {}", u.name, path, strerror(errno));
    return;
  }
  spawn_spec spec;
  spec.argv = {daemon, "--session", "--address=systemd:", "--nofork", "--nopidfile", "--syslog-only"};
  spec.env = {"PATH=" + std::string(kPath), "HOME=" + who->home, "USER=" + u.name, "LOGNAME=" + u.name,
              "XDG_RUNTIME_DIR=" + ls.paths.user_runtime_dir + "/" + std::to_string(u.uid),
              "DBUS_SESSION_BUS_ADDRESS=unix:path=" + path, "LISTEN_FDS=1", "LISTEN_FDNAMES=dbus.socket"};
  spec.pid_variables = {"LISTEN_PID"};
  spec.extra_fds = {{3, listener}};
  spec.uid = who->uid;
  spec.gid = who->gid;
  spec.supplementary_groups = who->groups;
  spec.workdir = "/";
  const int cgroup = session_bus_cgroup(ls, u.uid);
  spec.cgroup_procs_fd = cgroup;
  const spawn_result r = spawn_process(spec);
  ::close(listener);
  if (cgroup >= 0) ::close(cgroup);
  if (!r.ok()) {
    spdlog::warn("login1: no session bus for {}: {}", u.name, r.describe());
    ::unlink(path.c_str());
    return;
  }
  ls.session_buses[u.uid] = r.pid;
  // Its exit comes back as child_exit from the reaper, which owns the pidfd from now on.
  st.self->send(st.args.ctx->reaper, watch_pid_atom_v, static_cast<int>(r.pid), r.pidfd,
                caf::actor_cast<caf::actor>(st.self));
  spdlog::info("login1: session bus of {} on {} (pid {})", u.name, path, r.pid);
}

void login_stop_user_bus(bus_state& st, uint32_t uid) {
  auto& ls = *st.login;
  auto it = ls.session_buses.find(uid);
  if (it == ls.session_buses.end()) return;
  ::kill(it->second, SIGTERM);  // ours: started above; its exit is reaped and reported as child_exit
  ls.session_buses.erase(it);
}

void login_child_exit(bus_state& st, int pid, int status) {
  auto& ls = *st.login;
  for (auto it = ls.session_buses.begin(); it != ls.session_buses.end(); ++it) {
    if (it->second != pid) continue;
    // Its user is still logged in: the bus died under them (killed, crashed). Their next login starts another.
    spdlog::warn("login1: the session bus of uid {} (pid {}) ended ({}) while its user is logged in", it->first, pid,
                 WIFSIGNALED(status) ? std::string("signal ") + strsignal(WTERMSIG(status))
                                     : "exit status " + std::to_string(WEXITSTATUS(status)));
    ls.session_buses.erase(it);
    return;
  }
}

}  // namespace dynamod::dbus
