// Starting the service's processes: the main process with its environment, credentials, cgroup and
// isolation; the stop command; finding a forking service's daemon.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "actors/log_sink_actor.hpp"
#include "actors/service_process.hpp"
#include "actors/service_state.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/config/definition_fingerprint.hpp"
#include "runtime/process/credentials.hpp"
#include "runtime/process/isolation_plan.hpp"
#include "runtime/process/service_environment.hpp"
#include "runtime/process/spawn.hpp"
#include "runtime/process/wait_status.hpp"
#include "runtime/security/syscall_filter.hpp"

namespace dynamod::service {

using behaviours::lifecycle_state;

namespace {

constexpr uint32_t kNobody = 65534;

std::optional<std::map<std::string, std::string>> read_environment_file(const std::string& path, std::string& error) {
  if (path.empty()) return std::map<std::string, std::string>{};
  std::ifstream in(path);
  if (!in) {
    error = "environment-file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> problems;
  auto env = parse_environment_file(ss.str(), problems);
  for (const auto& p : problems) spdlog::warn("{}: {}: {}", path, p, "ignored");
  return env;
}

std::optional<uid_t> process_owner(pid_t pid) {
  struct stat info {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &info) != 0) return std::nullopt;
  return info.st_uid;
}

// A forking service's daemon: the pid in its pid file, or else the process left in the session we created
// for the launcher (daemons that setsid again must use a pid file or MAINPID=).
std::optional<pid_t> find_daemon(self_ptr self, pid_t launcher) {
  const auto& c = config(self);
  if (!c.pid_file.empty()) {
    std::ifstream in(c.pid_file);
    long pid = 0;
    if (in >> pid && pid > 1 && pid != ::getpid()) {
      auto proc = read_proc_status(static_cast<pid_t>(pid));
      // With a cgroup, a stale pid file naming some other (reused) pid is caught: the daemon must be ours.
      const auto& dir = self->state.cgroup_dir;
      // Without one, a service that runs as a user may name only a process of that user (the pid file is the
      // service's to write: it must not make the runtime watch and signal someone else's process).
      const auto& setup = self->state.setup;
      const bool ours = dir.empty() ? (!setup || !setup->uid || *setup->uid == 0 || process_owner(static_cast<pid_t>(pid)) == setup->uid)
                                    : [&] {
                                        const auto pids = cgroup_pids(dir);
                                        return std::find(pids.begin(), pids.end(), static_cast<pid_t>(pid)) != pids.end();
                                      }();
      if (proc && !proc->zombie && ours) return static_cast<pid_t>(pid);
    }
    return std::nullopt;
  }
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text;
    std::getline(in, text);
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string state, ppid, pgrp, session;
    fields >> state >> ppid >> pgrp >> session;
    if (session == std::to_string(launcher) && state != "Z") return static_cast<pid_t>(std::stol(name));
  }
  return std::nullopt;
}

}  // namespace

// What the main process and every helper (stop-exec, check-exec) run with; built once per incarnation, after the
// cgroup exists (or, for an adopted process, when a helper first needs it).
std::shared_ptr<const service_process_setup> process_setup(self_ptr self, std::string& error) {
  auto& st = self->state;
  if (st.setup) return st.setup;
  const auto& c = config(self);
  auto creds = resolve_credentials(c.user, c.group, c.supplementary_groups, error);
  auto from_file = creds ? read_environment_file(c.environment_file, error) : std::nullopt;
  if (!creds || !from_file) return nullptr;
  environment_inputs in;
  // notify-access = "none": nobody may speak, so nobody is told where to (as systemd).
  if (context(self).notify && c.notify_access_mode != notify_access::none) {
    in.notify_socket = context(self).paths.state_dir + "/notify";
  }
  in.invocation_id = st.invocation_id;
  in.home = creds->home;
  in.user = creds->user_name;
  in.from_file = std::move(*from_file);
  if (c.watchdog) in.watchdog_usec = c.watchdog->count() * 1000;
  if (c.readiness == readiness_type::fd) in.ready_fd = c.ready_fd;
  // A user namespace without a user: root inside is nobody outside.
  const bool user_ns = std::find(c.namespaces.begin(), c.namespaces.end(), "user") != c.namespaces.end();
  if (user_ns && !creds->uid) {
    creds->uid = kNobody;
    creds->gid = kNobody;
    creds->groups.clear();
  }
  auto filter = build_seccomp_program({c.seccomp_allow, c.seccomp_deny, c.seccomp_kill}, error);
  if (!filter) return nullptr;
  auto setup = std::make_shared<service_process_setup>();
  setup->env = build_environment(c, in);
  setup->workdir = c.workdir;
  setup->uid = creds->uid;
  setup->gid = creds->gid;
  setup->groups = creds->groups;
  setup->umask = c.umask;
  const bool drops_root = creds->uid && *creds->uid != 0;
  setup->isolation = plan_isolation(c, context(self).inaccessible_file, drops_root);
  setup->seccomp = std::move(*filter);
  setup->nsinit = context(self).nsinit;
  setup->cgroup_dir = st.cgroup_dir;
  st.setup = setup;
  return st.setup;
}

void spawn_with_files(self_ptr self, const std::shared_ptr<const service_process_setup>& setup, int cgroup_fd,
                      int ready_read, int ready_write, const opened_fifos& fifos);

void spawn_main_process(self_ptr self) {
  auto& st = self->state;
  const auto& c = config(self);
  std::string error;
  st.invocation_id = new_invocation_id();
  st.setup.reset();
  errno = 0;  // not every refusal of prepare_cgroup sets it (no cgroup v2): only a real shortage may retry
  auto cgroup_fd = prepare_cgroup(self, error);
  const bool cgroup_lacks_fds = !cgroup_fd && spawn_lacks_resources(errno, "cgroup");
  auto setup = cgroup_fd ? process_setup(self, error) : nullptr;
  if (!setup) {
    if (cgroup_fd && *cgroup_fd >= 0) ::close(*cgroup_fd);
    spdlog::error("{}: cannot start: {}", c.name, error);
    execute(self, st.lifecycle->on_spawn_failed(error, cgroup_lacks_fds));
    return;
  }
  int ready_pipe[2] = {-1, -1};
  if (c.readiness == readiness_type::fd && ::pipe2(ready_pipe, O_CLOEXEC) < 0) {
    const int e = errno;
    if (*cgroup_fd >= 0) ::close(*cgroup_fd);
    execute(self, st.lifecycle->on_spawn_failed(std::string{"readiness pipe: "} + std::strerror(e),
                                                spawn_lacks_resources(e, "pipe")));
    return;
  }

  st.fingerprint = definition_fingerprint(c);
  // The intent is written and the FIFOs opened by the file I/O actor; nothing else happens here until it
  // answered (await), so the process starts after its intent is on record.
  const int cgroup = *cgroup_fd, ready_read = ready_pipe[0], ready_write = ready_pipe[1];
  const auto& paths = context(self).paths;
  self->request(context(self).file_io, caf::infinite, spawn_files_atom_v, c.name, adoption_intent(self),
                log_fifo_path(paths, c.name, false), log_fifo_path(paths, c.name, true))
      .await([=](const opened_fifos& f) { spawn_with_files(self, setup, cgroup, ready_read, ready_write, f); },
             [=](caf::error& err) {
               for (int fd : {ready_read, ready_write, cgroup}) {
                 if (fd >= 0) ::close(fd);
               }
               const std::string why = "state directory: " + caf::to_string(err);
               spdlog::error("{}: cannot start: {} (retrying)", config(self).name, why);
               execute(self, self->state.lifecycle->on_spawn_failed(why, true));
             });
}

void spawn_with_files(self_ptr self, const std::shared_ptr<const service_process_setup>& setup, int cgroup_fd,
                      int ready_read, int ready_write, const opened_fifos& fifos) {
  auto& st = self->state;
  const auto& c = config(self);
  const int out = fifos.out, err = fifos.err;
  if (spawn_lacks_resources(fifos.error, "log FIFO")) {
    // Without descriptors for its FIFOs the output would go to /dev/null: wait for descriptors instead.
    for (int fd : {out, err, ready_read, ready_write, cgroup_fd}) {
      if (fd >= 0) ::close(fd);
    }
    const std::string why = std::string{"log FIFO: "} + std::strerror(fifos.error);
    spdlog::error("{}: cannot start: {} (the runtime is short of descriptors: retrying)", c.name, why);
    execute(self, st.lifecycle->on_spawn_failed(why, true));
    return;
  }
  spawn_spec spec = setup->spec_for(c.exec);
  spec.cgroup_procs_fd = cgroup_fd;
  if (c.watchdog) spec.pid_variables.push_back("WATCHDOG_PID");
  spec.stdout_fd = out;
  spec.stderr_fd = err >= 0 ? err : out;
  if (ready_write >= 0) spec.extra_fds.emplace_back(c.ready_fd, ready_write);
  const spawn_result r = spawn_process(spec);
  for (int fd : {out, err, ready_write, cgroup_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (!r.ok()) {
    if (ready_read >= 0) ::close(ready_read);
    clear_adoption_record(self);  // nothing runs under that intent
    const bool retry = spawn_lacks_resources(r.error, r.step);
    spdlog::error("{}: cannot start {}: {}{}", c.name, c.exec.front(), r.describe(),
                  retry ? " (the runtime is short of resources: retrying)" : "");
    execute(self, st.lifecycle->on_spawn_failed(r.describe(), retry));
    return;
  }
  st.pid = r.pid;
  if (auto proc = read_proc_status(r.pid)) st.proc_start_time = proc->start_time;
  watch_process(self, r.pid, false, r.pidfd);
  watch_cgroup(self);
  spdlog::info("{}: started {} (pid {})", c.name, c.exec.front(), r.pid);
  save_adoption_record(self);
  // The setup is needed again only by exec readiness checks, stop commands and a forking service's pid file check.
  if (c.readiness != readiness_type::exec && c.stop_exec.empty() && c.type != service_type::forking) st.setup.reset();
  if (ready_read >= 0) {
    ::fcntl(ready_read, F_SETFL, O_NONBLOCK);
    st.ready_read_fd = ready_read;  // handed to the probe by the start_probe action that follows
  }
  execute(self, st.lifecycle->on_spawned());
}

void run_stop_command(self_ptr self) {
  auto& st = self->state;
  const auto& c = config(self);
  std::string error;
  auto setup = process_setup(self, error);
  // As systemd's ExecStop: the service's own user, sandbox and cgroup, never the runtime's root.
  const spawn_result r = setup ? spawn_service_helper(*setup, c.stop_exec, {"MAINPID=" + std::to_string(st.pid)})
                               : spawn_result{-1, 0, error};
  if (!r.ok()) {
    spdlog::warn("{}: stop command failed ({}); sending {}", c.name, setup ? r.describe() : error, c.stop_signal);
    if (st.lifecycle->state() == lifecycle_state::stopping && st.pid > 0 && !st.stop_pid) signal_service(self, c.stop_signal);
    execute(self, st.lifecycle->on_stop_command_exit());  // a done oneshot has nothing else to wait for
    return;
  }
  st.stop_pid = r.pid;
  const auto me = caf::actor_cast<caf::actor>(self);
  self->send(context(self).reaper, watch_pid_atom_v, static_cast<int>(r.pid), r.pidfd, me);
  // notify-access = "exec": the stop command may speak for the service.
  if (context(self).notify && c.notify_access_mode == notify_access::exec) {
    self->send(context(self).notify, watch_pid_atom_v, static_cast<int>(r.pid), me);
  }
}

void look_for_daemon(self_ptr self) {
  auto& st = self->state;
  if (st.lifecycle->state() != lifecycle_state::starting) return;
  if (auto pid = find_daemon(self, st.launcher_pid)) {
    spdlog::info("{}: daemon is pid {}", config(self).name, *pid);
    st.pid = *pid;
    if (auto proc = read_proc_status(*pid)) st.proc_start_time = proc->start_time;
    watch_process(self, *pid, true);
    save_adoption_record(self);
    execute(self, st.lifecycle->on_main_pid_found());
  } else if (config(self).pid_file.empty()) {
    execute(self, st.lifecycle->on_main_pid_missing("the launcher exited and left no daemon in its session"));
  } else {
    self->delayed_send(self, std::chrono::milliseconds(100), delay_done_atom_v, true);  // the pid file may come late
  }
}

}  // namespace dynamod::service

namespace dynamod {

spawn_result spawn_service_helper(const service_process_setup& setup, std::vector<std::string> argv,
                                  const std::vector<std::string>& extra_env) {
  // A helper gets the service's sandbox but stays in the runtime's pid namespace: a stop command must be able to
  // signal $MAINPID, and a pid namespace of its own would need dynamod-nsinit as its PID 1.
  isolation_plan isolation = setup.isolation;
  isolation.clone_flags &= ~CLONE_NEWPID;
  isolation.minimal_init = false;
  std::erase_if(isolation.mounts, [](const mount_step& m) { return m.what == mount_step::kind::proc; });
  spawn_spec spec = setup.spec_for(std::move(argv));
  spec.isolation = &isolation;
  spec.env.insert(spec.env.end(), extra_env.begin(), extra_env.end());
  if (!setup.cgroup_dir.empty()) {
    spec.cgroup_procs_fd = ::open((setup.cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (spec.cgroup_procs_fd < 0) return spawn_result{-1, errno, "open " + setup.cgroup_dir + "/cgroup.procs"};
  }
  spawn_result r = spawn_process(spec);
  if (spec.cgroup_procs_fd >= 0) ::close(spec.cgroup_procs_fd);
  return r;
}

}  // namespace dynamod
