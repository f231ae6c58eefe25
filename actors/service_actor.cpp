#include "actors/service_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "actors/exit_reasons.hpp"
#include "actors/log_sink_actor.hpp"
#include "actors/messages.hpp"
#include "actors/readiness_probe_actor.hpp"
#include "behaviours/service_lifecycle.hpp"
#include "runtime/console_status.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/process/credentials.hpp"
#include "runtime/process/service_environment.hpp"
#include "runtime/process/spawn.hpp"
#include "runtime/process/wait_status.hpp"

namespace dynamod {

using behaviours::action;
using behaviours::actions;
using behaviours::end_reason;
using behaviours::lifecycle_state;
using behaviours::process_end;

namespace {

behaviours::lifecycle_options lifecycle_options_for(const service_config& c) {
  behaviours::lifecycle_options o;
  o.oneshot = c.type == service_type::oneshot;
  o.forking = c.type == service_type::forking;
  o.readiness_needed = c.readiness != readiness_type::none;
  o.start_timeout = c.start_timeout;
  o.stop_timeout = c.stop_timeout;
  o.stop_signal = c.stop_signal;
  o.stop_command = !c.stop_exec.empty();
  o.watchdog = c.watchdog;
  return o;
}

struct service_state {
  service_args args;
  std::unique_ptr<behaviours::service_lifecycle> lifecycle;
  pid_t pid = 0;
  uint64_t proc_start_time = 0;
  pid_t stop_pid = 0;          // a running stop-exec
  int pidfd = -1;              // an adopted process that is not our child (user mode without PID 1)
  int ready_read_fd = -1;      // fd readiness: the pipe's read end, until the probe takes it
  pid_t launcher_pid = 0;      // forking: the process we started, whose session the daemon lives in
  caf::actor probe;
  uint64_t timer_generation[3] = {0, 0, 0};
  std::vector<std::string> environment;
  std::string invocation_id;
  std::string status_text;
  int status_errno = 0;
  bool ready = false;
  bool watching_deps = false;
  std::string last_state;
  std::string detail;
  static inline const char* name = "service";

  ~service_state() {
    if (ready_read_fd >= 0) ::close(ready_read_fd);
    if (pidfd >= 0) {
      args.context->loop->forget(pidfd);
      ::close(pidfd);
    }
  }
};

using self_ptr = caf::stateful_actor<service_state>*;

const service_config& config(self_ptr self) { return *self->state.args.config; }
const runtime_context& context(self_ptr self) { return *self->state.args.context; }
adoption_store store(self_ptr self) { return adoption_store{context(self).paths.state_dir + "/services"}; }

void execute(self_ptr self, const actions& todo);

void save_adoption_record(self_ptr self) {
  auto& st = self->state;
  if (st.pid <= 0) return;
  store(self).save(config(self).name,
                   adoption_record{st.pid, st.proc_start_time, st.ready, false, st.invocation_id, st.status_text});
}

void report(self_ptr self) {
  auto& st = self->state;
  std::string state = behaviours::to_string(st.lifecycle->state());
  std::string detail = st.detail;
  if (st.lifecycle->state() == lifecycle_state::blocked) detail = "dependency failed: " + st.lifecycle->blocked_on();
  if (st.lifecycle->state() == lifecycle_state::starting && st.pid > 0) detail = describe_readiness(config(self));
  service_report r{config(self).name, state, static_cast<int32_t>(st.pid), detail, st.status_text};
  self->send(st.args.supervisor, r);
  if (context(self).tracker) self->send(context(self).tracker, r);
  if (state == st.last_state) return;
  // Console lines for the transitions a person booting the machine wants to see.
  if (st.lifecycle->state() == lifecycle_state::running || st.lifecycle->state() == lifecycle_state::done) {
    if (st.last_state != "stopping") context(self).console->ok((st.lifecycle->state() == lifecycle_state::done ? "Finished " : "Started ") + config(self).name + ".");
  } else if (st.lifecycle->state() == lifecycle_state::blocked) {
    context(self).console->depend("Dependency failed for " + config(self).name + ": " + st.lifecycle->blocked_on() + ".");
  }
  st.last_state = state;
}

void watch_process(self_ptr self, pid_t pid) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->send(context(self).reaper, watch_pid_atom_v, static_cast<int>(pid), me);
  if (context(self).notify) self->send(context(self).notify, watch_pid_atom_v, static_cast<int>(pid), me);
}

void forget_process(self_ptr self, pid_t pid) {
  if (context(self).notify && pid > 0) self->send(context(self).notify, unwatch_pid_atom_v, static_cast<int>(pid));
}

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

// Opens the write side of a log FIFO read-write, so the service never sees EPIPE (see log_sink_actor).
int open_log_fifo(self_ptr self, bool err) {
  const std::string path = log_fifo_path(context(self).paths, config(self).name, err);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT || !ensure_log_fifo(path)) return fd;  // the log sink may not have run yet
  return ::open(path.c_str(), O_RDWR | O_CLOEXEC);
}

void spawn_main_process(self_ptr self) {
  auto& st = self->state;
  const auto& c = config(self);
  std::string error;
  auto creds = resolve_credentials(c.user, c.group, c.supplementary_groups, error);
  auto from_file = creds ? read_environment_file(c.environment_file, error) : std::nullopt;
  if (!creds || !from_file) {
    execute(self, st.lifecycle->on_spawn_failed(error));
    return;
  }
  st.invocation_id = new_invocation_id();
  environment_inputs in;
  in.notify_socket = context(self).notify ? context(self).paths.state_dir + "/notify" : "";
  in.invocation_id = st.invocation_id;
  in.home = creds->home;
  in.user = creds->user_name;
  in.from_file = std::move(*from_file);
  if (c.watchdog) in.watchdog_usec = c.watchdog->count() * 1000;
  int ready_pipe[2] = {-1, -1};
  if (c.readiness == readiness_type::fd) {
    if (::pipe2(ready_pipe, O_CLOEXEC) < 0) {
      execute(self, st.lifecycle->on_spawn_failed(std::string{"readiness pipe: "} + std::strerror(errno)));
      return;
    }
    in.ready_fd = c.ready_fd;
  }
  st.environment = build_environment(c, in);

  spawn_spec spec;
  spec.argv = c.exec;
  spec.env = st.environment;
  spec.workdir = c.workdir;
  spec.uid = creds->uid;
  spec.gid = creds->gid;
  spec.supplementary_groups = creds->groups;
  spec.umask = c.umask;
  if (c.watchdog) spec.pid_variables.push_back("WATCHDOG_PID");
  const int out = open_log_fifo(self, false);
  const int err = open_log_fifo(self, true);
  spec.stdout_fd = out;
  spec.stderr_fd = err >= 0 ? err : out;
  if (ready_pipe[1] >= 0) spec.extra_fds.emplace_back(c.ready_fd, ready_pipe[1]);
  const spawn_result r = spawn_process(spec);
  for (int fd : {out, err, ready_pipe[1]}) {
    if (fd >= 0) ::close(fd);
  }
  if (!r.ok()) {
    if (ready_pipe[0] >= 0) ::close(ready_pipe[0]);
    spdlog::error("{}: cannot start {}: {}", c.name, c.exec.front(), r.describe());
    execute(self, st.lifecycle->on_spawn_failed(r.describe()));
    return;
  }
  st.pid = r.pid;
  if (auto proc = read_proc_status(r.pid)) st.proc_start_time = proc->start_time;
  watch_process(self, r.pid);
  spdlog::info("{}: started {} (pid {})", c.name, c.exec.front(), r.pid);
  save_adoption_record(self);
  // The environment is needed again only by exec readiness checks and stop commands.
  if (c.readiness != readiness_type::exec && c.stop_exec.empty()) std::vector<std::string>().swap(st.environment);
  if (ready_pipe[0] >= 0) {
    ::fcntl(ready_pipe[0], F_SETFL, O_NONBLOCK);
    st.ready_read_fd = ready_pipe[0];  // handed to the probe by the start_probe action that follows
  }
  execute(self, st.lifecycle->on_spawned());
}

void start_probe(self_ptr self) {
  auto& st = self->state;
  const auto& c = config(self);
  if (c.readiness == readiness_type::notify || c.readiness == readiness_type::none) return;
  probe_args a{st.args.config, st.environment, std::exchange(st.ready_read_fd, -1), st.args.context};
  st.probe = spawn_readiness_probe(self, std::move(a));
}

void stop_probe(self_ptr self) {
  auto& st = self->state;
  if (!st.probe) return;
  self->unlink_from(st.probe);  // its exit must not take us with it
  self->send_exit(st.probe, caf::exit_reason::user_shutdown);
  st.probe = nullptr;
}

void signal_service(self_ptr self, int signo) {
  const pid_t pid = self->state.pid;
  if (pid <= 0) return;
  // The service leads its own process group (setsid): signal the group, so the helpers it forked go too.
  if (::kill(-pid, signo) < 0) ::kill(pid, signo);
  if (signo == SIGTERM || signo == SIGHUP || signo == SIGINT) {
    ::kill(-pid, SIGCONT);  // a stopped process cannot act on the signal
  }
}

void run_stop_command(self_ptr self) {
  auto& st = self->state;
  spawn_spec spec;
  spec.argv = config(self).stop_exec;
  spec.env = st.environment;
  spec.env.push_back("MAINPID=" + std::to_string(st.pid));
  const spawn_result r = spawn_process(spec);
  if (!r.ok()) {
    spdlog::warn("{}: stop command failed ({}); sending {}", config(self).name, r.describe(), config(self).stop_signal);
    signal_service(self, config(self).stop_signal);
    return;
  }
  st.stop_pid = r.pid;
  self->send(context(self).reaper, watch_pid_atom_v, static_cast<int>(r.pid), caf::actor_cast<caf::actor>(self));
}

caf::error to_caf_error(const end_reason& r) {
  switch (r.what) {
    case end_reason::code::normal: return caf::error{};
    case end_reason::code::exited: return make_error(service_exit::exited, r.value);
    case end_reason::code::killed: return make_error(service_exit::killed, r.value);
    case end_reason::code::dumped: return make_error(service_exit::dumped, r.value);
    case end_reason::code::start_failed: return make_error(service_exit::start_failed, r.detail);
    case end_reason::code::readiness_timeout: return make_error(service_exit::readiness_timeout, r.detail);
    case end_reason::code::watchdog: return make_error(service_exit::watchdog, r.detail);
    case end_reason::code::oom: return make_error(service_exit::oom);
    case end_reason::code::shutdown: return make_error(service_exit::shutdown);
    case end_reason::code::lost: return make_error(service_exit::lost, r.detail);
  }
  return make_error(service_exit::lost, std::string{"unknown end"});
}

void finish(self_ptr self, const end_reason& why) {
  auto& st = self->state;
  const caf::error reason = to_caf_error(why);
  const bool failed_start = !st.ready && (why.what == end_reason::code::start_failed ||
                                          why.what == end_reason::code::readiness_timeout ||
                                          why.what == end_reason::code::exited || why.what == end_reason::code::killed);
  if (failed_start && !st.lifecycle->stop_requested()) {
    context(self).console->failed("Failed to start " + config(self).name + ": " + describe_exit(reason) + ".");
  }
  forget_process(self, st.pid);
  store(self).remove(config(self).name);
  stop_probe(self);
  // The last word to the tracker: dependents waiting on us need to know how it ended.
  const bool clean = classify(reason) != exit_class::abnormal;
  service_report r{config(self).name, clean ? "stopped" : "failed", 0, describe_exit(reason), st.status_text};
  if (context(self).tracker) self->send(context(self).tracker, r);
  st.pid = 0;
  self->quit(reason);
}

// A forking service's daemon: the pid in its pid file, or else the process left in the session we created
// for the launcher (daemons that setsid again must use a pid file or MAINPID=).
std::optional<pid_t> find_daemon(self_ptr self, pid_t launcher) {
  const auto& c = config(self);
  if (!c.pid_file.empty()) {
    std::ifstream in(c.pid_file);
    long pid = 0;
    if (in >> pid && pid > 1) {
      auto proc = read_proc_status(static_cast<pid_t>(pid));
      if (proc && !proc->zombie) return static_cast<pid_t>(pid);
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

void look_for_daemon(self_ptr self) {
  auto& st = self->state;
  if (st.lifecycle->state() != lifecycle_state::starting) return;
  if (auto pid = find_daemon(self, st.launcher_pid)) {
    spdlog::info("{}: daemon is pid {}", config(self).name, *pid);
    st.pid = *pid;
    if (auto proc = read_proc_status(*pid)) st.proc_start_time = proc->start_time;
    watch_process(self, *pid);
    save_adoption_record(self);
    execute(self, st.lifecycle->on_main_pid_found());
  } else if (config(self).pid_file.empty()) {
    execute(self, st.lifecycle->on_main_pid_missing("the launcher exited and left no daemon in its session"));
  } else {
    self->delayed_send(self, std::chrono::milliseconds(100), delay_done_atom_v, true);  // the pid file may come late
  }
}

void execute(self_ptr self, const actions& todo) {
  auto& st = self->state;
  for (const action& a : todo) {
    switch (a.what) {
      case action::kind::spawn: spawn_main_process(self); break;
      case action::kind::start_probe: start_probe(self); break;
      case action::kind::find_main_pid:
        st.launcher_pid = st.pid;
        forget_process(self, st.pid);
        st.pid = 0;
        look_for_daemon(self);
        break;
      case action::kind::stop_probe: stop_probe(self); break;
      case action::kind::signal: signal_service(self, a.value); break;
      case action::kind::run_stop_command: run_stop_command(self); break;
      case action::kind::arm_timer: {
        const auto which = static_cast<uint8_t>(a.which);
        self->delayed_send(self, a.duration, timeout_atom_v, which, ++st.timer_generation[which]);
        break;
      }
      case action::kind::cancel_timer: ++st.timer_generation[static_cast<uint8_t>(a.which)]; break;
      case action::kind::report:
        if (st.lifecycle->state() == lifecycle_state::running && !st.ready) {
          st.ready = true;
          save_adoption_record(self);
        } else if (st.lifecycle->state() == lifecycle_state::done) {
          st.ready = true;
          st.pid = 0;
          store(self).save(config(self).name, adoption_record{0, 0, true, true, st.invocation_id, st.status_text});
        }
        report(self);
        break;
      case action::kind::quit: finish(self, a.reason); return;
    }
  }
}

// After the restart delay: ask the tracker about dependencies, or start at once if there are none.
void begin_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.lifecycle->state() != lifecycle_state::waiting || st.lifecycle->stop_requested()) return;
  st.detail.clear();
  if (context(self).tracker && st.args.waits) {
    st.watching_deps = true;
    self->send(context(self).tracker, watch_deps_atom_v, config(self).name);
  } else {
    execute(self, st.lifecycle->on_dependencies_ready());
  }
}

void handle_notify(self_ptr self, const notify_fields& fields, int sender) {
  auto& st = self->state;
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
      execute(self, st.lifecycle->on_timer(action::timer::watchdog));
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      const long long usec = std::atoll(value.c_str());
      if (usec > 0) execute(self, st.lifecycle->on_extend_timeout(std::chrono::milliseconds{usec / 1000}));
    } else if (key == "MAINPID") {
      const pid_t pid = static_cast<pid_t>(std::atol(value.c_str()));
      if (pid > 1 && pid != st.pid && read_proc_status(pid)) {
        spdlog::info("{}: main pid is now {} (was {}, told by pid {})", config(self).name, pid, st.pid, sender);
        forget_process(self, st.pid);
        st.pid = pid;
        if (auto proc = read_proc_status(pid)) st.proc_start_time = proc->start_time;
        watch_process(self, pid);
        save_adoption_record(self);
      }
    }
  }
  if (status_changed) {
    report(self);
    save_adoption_record(self);
  }
}

}  // namespace

namespace {

caf::behavior service_behavior(self_ptr self) {
  return {
      [=](delay_done_atom) { begin_waiting(self); },
      [=](delay_done_atom, bool) { look_for_daemon(self); },
      [=](deps_atom, uint8_t verdict, const std::string& on, const std::string& why) {
        auto& st = self->state;
        if (verdict == 1) {
          if (st.watching_deps) self->send(context(self).tracker, unwatch_deps_atom_v, config(self).name);
          st.watching_deps = false;
          st.detail.clear();
          execute(self, st.lifecycle->on_dependencies_ready());
        } else if (verdict == 2) {
          execute(self, st.lifecycle->on_dependency_failed(on, why));
        } else {
          st.detail = "waiting for " + on;
          if (st.lifecycle->state() == lifecycle_state::blocked) {
            // The blocking requirement is coming back: wait for it again instead of staying failed.
            execute(self, st.lifecycle->on_dependency_failed(on, "restarting"));
          }
          report(self);
        }
      },
      [=](child_exit_atom, int pid, int status) {
        auto& st = self->state;
        if (pid == st.stop_pid) {
          st.stop_pid = 0;
          return;
        }
        if (pid != st.pid) return;
        const auto how = process_exit::from_wait_status(status);
        spdlog::info("{}: process {} {}", config(self).name, pid, how.describe());
        process_end end;
        end.kind = how.how == process_exit::kind::exited   ? process_end::how::exited
                   : how.how == process_exit::kind::killed ? process_end::how::killed
                                                           : process_end::how::dumped;
        end.code = how.code;
        execute(self, st.lifecycle->on_exit(end));
      },
      [=](io_ready_atom, uint64_t, uint32_t) {
        // The adopted process (not our child) is gone; its exit status cannot be known.
        auto& st = self->state;
        context(self).loop->forget(st.pidfd);
        ::close(st.pidfd);
        st.pidfd = -1;
        execute(self, st.lifecycle->on_exit(process_end{process_end::how::unknown, 0}));
      },
      [=](stop_atom) { execute(self, self->state.lifecycle->on_stop()); },
      [=](ready_atom) { execute(self, self->state.lifecycle->on_ready()); },
      [=](probe_fail_atom, const std::string& why) {
        self->state.probe = nullptr;
        execute(self, self->state.lifecycle->on_probe_failed(why));
      },
      [=](timeout_atom, uint8_t which, uint64_t generation) {
        auto& st = self->state;
        if (which > 2 || generation != st.timer_generation[which]) return;
        execute(self, st.lifecycle->on_timer(static_cast<action::timer>(which)));
      },
      [=](notify_atom, const notify_fields& fields, int sender) {
        handle_notify(self, fields, sender);
        return true;
      },
      [=](tree_atom) {
        auto& st = self->state;
        nlohmann::json node{{"kind", "service_incarnation"}, {"mailbox", self->mailbox().size()},
                            {"children", nlohmann::json::array()}};
        if (st.probe) {
          node["children"].push_back({{"kind", "readiness_probe"}, {"name", describe_readiness(config(self))},
                                      {"state", "probing"}});
        }
        return node.dump();
      },
      [=](status_atom) {
        auto& st = self->state;
        nlohmann::json j{{"state", behaviours::to_string(st.lifecycle->state())},
                         {"pid", st.pid},
                         {"ready", st.ready},
                         {"status_text", st.status_text},
                         {"status_errno", st.status_errno},
                         {"invocation_id", st.invocation_id},
                         {"readiness", describe_readiness(config(self))}};
        if (st.lifecycle->state() == lifecycle_state::blocked) j["blocked_on"] = st.lifecycle->blocked_on();
        return j.dump();
      },
  };
}

}  // namespace

static caf::behavior service_actor(self_ptr self, service_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.lifecycle = std::make_unique<behaviours::service_lifecycle>(lifecycle_options_for(config(self)));
  self->set_exception_handler([=](std::exception_ptr& eptr) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{}: internal error: {}", config(self).name, what);
    return make_error(service_exit::start_failed, "internal error: " + what);
  });

  if (st.args.adopt) {
    // The previous runtime started this process; it is still the same one (checked against /proc).
    const adoption_record& a = *st.args.adopt;
    if (a.done) {
      spdlog::info("{}: completed under the previous runtime", config(self).name);
      st.ready = true;
      st.last_state = "done";
      execute(self, st.lifecycle->on_adopted_done());
      return service_behavior(self);
    }
    st.pid = a.pid;
    st.proc_start_time = a.start_time;
    st.invocation_id = a.invocation_id;
    st.status_text = a.status_text;
    st.ready = a.ready;
    watch_process(self, a.pid);
    auto proc = read_proc_status(a.pid);
    if (!context(self).pid1_link && proc && proc->parent != ::getpid()) {
      // Not our child and no PID 1 to forward its exit status: watch it through a pidfd.
      st.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, a.pid, 0));
      if (st.pidfd >= 0) context(self).loop->watch(st.pidfd, EPOLLIN, caf::actor_cast<caf::actor>(self), 1);
    }
    spdlog::info("{}: adopted pid {} from the previous runtime", config(self).name, a.pid);
    st.last_state = a.ready ? "running" : "";
    execute(self, st.lifecycle->on_adopted(a.ready));
  } else if (st.args.start_delay.count() > 0) {
    st.detail = "restart delay";
    report(self);
    self->delayed_send(self, st.args.start_delay, delay_done_atom_v);
  } else {
    begin_waiting(self);
  }

  return service_behavior(self);
}

caf::actor spawn_service(caf::event_based_actor* supervisor, service_args args) {
  return supervisor->spawn<caf::linked>(service_actor, std::move(args));
}

}  // namespace dynamod
