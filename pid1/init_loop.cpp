#include "pid1/init_loop.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utility>

#include "pid1/child_process.hpp"
#include "pid1/file_io.hpp"
#include "pid1/final_shutdown.hpp"
#include "pid1/heap_guard.hpp"
#include "pid1/init_log.hpp"

namespace dynamod::init {

using protocol::init_message;
using protocol::init_msg;
using protocol::power_mode;

namespace {

enum : uint64_t { kTagSignal = 1, kTagTimer = 2, kTagIpc = 3 };
constexpr uint64_t kProgressEveryMs = 5000;

// Renders a wait status: "exited with status 3", "killed by signal 9 (Killed)".
log_line& describe_status(log_line& l, int status) {
  if (WIFEXITED(status)) return l << "exited with status " << WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    l << "killed by signal " << WTERMSIG(status) << " (" << sigdescr_np(WTERMSIG(status)) << ")";
    if (WCOREDUMP(status)) l << ", core dumped";
    return l;
  }
  return l << "ended with wait status " << status;
}

uint64_t boot_time_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

init_loop::init_loop(const init_options& options, bool container_mode)
    : options_(options),
      container_mode_(container_mode),
      backoff_(options.backoff_initial_ms, options.backoff_max_ms, options.backoff_reset_ms) {}

bool init_loop::open() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGPWR, SIGHUP}) sigaddset(&mask, sig);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) {
    log_error(log_line{} << "sigprocmask: " << errno_text{errno});
    return false;
  }
  // A write to a runtime that just died must be an EPIPE, not a fatal signal.
  ::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (signal_fd_ < 0 || timer_fd_ < 0 || epoll_fd_ < 0) {
    log_error(log_line{} << "cannot create the event loop fds: " << errno_text{errno});
    return false;
  }
  for (auto [fd, tag] : {std::pair{signal_fd_, kTagSignal}, std::pair{timer_fd_, kTagTimer}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      log_error(log_line{} << "epoll_ctl: " << errno_text{errno});
      return false;
    }
  }
  return true;
}

void init_loop::run() {
  if (options_.emergency && !container_mode_) {
    start_emergency_shell("dynamod.emergency on the kernel command line; exit the shell to continue booting");
  } else {
    start_runtime();
  }
  for (;;) {
    arm_timer();
    epoll_event events[8];
    const int n = ::epoll_wait(epoll_fd_, events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A persistent failure must not spin: log the first of a run, then wait longer between tries.
      const int err = errno;
      bool first = false;
      const uint32_t delay = epoll_errors_.on_error(first);
      if (first) log_error(log_line{} << "epoll_wait: " << errno_text{err} << "; retrying with back-off");
      sleep_ms(delay);
      continue;
    }
    if (const uint64_t failures = epoll_errors_.on_success(); failures > 0) {
      log_notice(log_line{} << "epoll_wait works again after " << failures << " failure(s)");
    }
    for (int i = 0; i < n; ++i) {
      switch (events[i].data.u64) {
        case kTagSignal: on_signal(); break;
        case kTagTimer: on_timer(); break;
        case kTagIpc:
          if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_ipc_readable();
          if (ipc_fd_ >= 0 && (events[i].events & EPOLLOUT)) on_ipc_writable();
          break;
        default: break;
      }
    }
  }
}

void init_loop::on_signal() {
  signalfd_siginfo si;
  for (;;) {
    const ssize_t n = ::read(signal_fd_, &si, sizeof si);
    if (n != static_cast<ssize_t>(sizeof si)) break;
    switch (si.ssi_signo) {
      case SIGCHLD: reap_children(); break;
      // The table in the README: SIGINT is ctrl-alt-del once RB_DISABLE_CAD is set.
      case SIGINT: begin_shutdown(power_mode::reboot, "SIGINT (ctrl-alt-del)"); break;
      case SIGTERM:
        // A container manager sends SIGTERM to stop the container, not to restart it.
        begin_shutdown(container_mode_ ? power_mode::poweroff : power_mode::reboot, "SIGTERM");
        break;
      case SIGUSR1: begin_shutdown(power_mode::halt, "SIGUSR1"); break;
      case SIGUSR2: begin_shutdown(power_mode::poweroff, "SIGUSR2"); break;
      case SIGPWR: begin_shutdown(power_mode::poweroff, "SIGPWR"); break;
      case SIGHUP:
        log_notice(log_line{} << "status: runtime pid " << runtime_pid_ << (runtime_ready_ ? " ready" : "")
                              << ", generation " << generation_ << ", tracked pids " << orphans_.tracked_count()
                              << ", queued orphan exits " << orphans_.pending_count()
                              << ", untracked orphans reaped " << untracked_reaped_
                              << ", liveness pings " << ping_sequence_
                              << ", heap allocations after start " << heap_guard_violations());
        break;
      default: break;
    }
  }
  // Signals coalesce: always check for children even if SIGCHLD was not in this batch.
  reap_children();
}

void init_loop::reap_children() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    if (pid == runtime_pid_) {
      on_runtime_exit(status);
    } else if (pid == shell_pid_) {
      log_line l;
      l << "emergency shell ";
      describe_status(l, status);
      log_notice(l);
      shell_pid_ = 0;
      if (runtime_pid_ == 0 && !shutting_down_ && restart_at_ms_ == 0) start_runtime();
    } else if (orphans_.on_reaped(pid, status)) {
      log_line l;
      l << "reaped orphaned service process " << pid << " (";
      describe_status(l, status);
      log_debug(l << ")");
    } else {
      ++untracked_reaped_;
    }
  }
  if (runtime_ready_) flush_outgoing();
}

bool init_loop::start_runtime() {
  restart_at_ms_ = 0;
  // During a shutdown a runtime that cannot start means the fallback (final_shutdown), not a retry.
  if (::access(options_.runtime_path, X_OK) < 0) {
    const int err = errno;
    log_error(log_line{} << "runtime " << options_.runtime_path << " cannot be executed: " << errno_text{err});
    if (shutting_down_) return false;
    start_emergency_shell("the runtime is missing");
    schedule_runtime_restart(0, "runtime missing");
    return false;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    log_error(log_line{} << "socketpair: " << errno_text{errno});
    if (!shutting_down_) schedule_runtime_restart(0, "no IPC channel");
    return false;
  }
  ++generation_;
  const spawn_result r = spawn_runtime(options_.runtime_path, pair[1]);
  ::close(pair[1]);
  if (r.pid < 0) {
    ::close(pair[0]);
    log_error(log_line{} << "cannot start runtime " << options_.runtime_path << ": " << errno_text{r.error});
    if (shutting_down_) return false;
    start_emergency_shell("the runtime cannot be started");
    schedule_runtime_restart(0, "exec failed");
    return false;
  }
  if (r.unconfirmed) {
    log_warning(log_line{} << "runtime pid " << r.pid << ": exec not confirmed within "
                           << duration_text{kExecConfirmTimeoutMs} << "; treating it as started");
  }
  runtime_pid_ = r.pid;
  runtime_started_ms_ = monotonic_ms();
  runtime_ready_ = false;
  runtime_gave_up_ = false;
  killed_as_hung_ = false;
  ping_outstanding_ = false;
  next_ping_ms_ = runtime_started_ms_ + options_.liveness_interval_ms;
  ipc_fd_ = pair[0];
  if (::fcntl(ipc_fd_, F_SETFL, O_NONBLOCK) < 0) log_warning(log_line{} << "O_NONBLOCK on IPC: " << errno_text{errno});
  reader_ = protocol::frame_reader{in_storage_, sizeof in_storage_, protocol::kInitProtocolVersion};
  outbox_.reset();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTagIpc;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ipc_fd_, &ev) < 0) {
    log_error(log_line{} << "epoll_ctl(ipc): " << errno_text{errno});
  }
  ipc_want_write_ = false;
  log_notice(log_line{} << "started runtime " << options_.runtime_path << " (pid " << r.pid << ", generation "
                        << generation_ << ")");
  outbox_.request_hello(generation_);
  // A shutdown requested while no runtime ran still lets the services of this one stop cleanly.
  if (shutting_down_) outbox_.request_stop_all(shutdown_mode_);
  flush_outgoing();
  return true;
}

void init_loop::on_runtime_exit(int status) {
  // What the runtime wrote just before exiting (a give_up, a shutdown) is still in the socket: read it
  // before acting on the exit, so a trailing message is never lost.
  draining_exit_ = true;
  if (ipc_fd_ >= 0) on_ipc_readable();
  draining_exit_ = false;
  const uint64_t now = monotonic_ms();
  const uint64_t uptime = now - runtime_started_ms_;
  log_line l;
  l << "runtime (pid " << runtime_pid_ << ") ";
  describe_status(l, status);
  l << " after " << duration_text{uptime};
  log_notice(l);
  runtime_pid_ = 0;
  runtime_ready_ = false;
  ping_outstanding_ = false;
  close_ipc();
  if (shutting_down_) {
    finish();
  }
  if (runtime_gave_up_) {
    start_emergency_shell("the root supervisor gave up");
  } else if (crash_loop_.on_exit(now)) {
    log_error(log_line{} << "the runtime is crash-looping (5 exits within 30s)");
    start_emergency_shell("the runtime crashed 5 times within 30s");
  }
  schedule_runtime_restart(uptime, runtime_gave_up_ ? "root supervisor gave up"
                                   : killed_as_hung_ ? "runtime hung"
                                                     : "runtime exited");
}

// One ping outstanding at a time. The pong comes from the runtime's pid1_link actor, so it proves that the
// runtime's event loop and scheduler still turn.
void init_loop::check_liveness(uint64_t now) {
  if (options_.liveness_interval_ms == 0 || runtime_pid_ <= 0 || ipc_fd_ < 0 || killed_as_hung_) return;
  if (ping_outstanding_) {
    if (now < ping_deadline_ms_) return;
    log_error(log_line{} << "runtime (pid " << runtime_pid_ << ") did not answer a liveness ping within "
                         << duration_text{options_.liveness_timeout_ms} << "; killing it to restart it");
    if (::kill(runtime_pid_, SIGKILL) < 0) log_error(log_line{} << "kill(runtime): " << errno_text{errno});
    killed_as_hung_ = true;
    ping_outstanding_ = false;
    return;
  }
  if (now < next_ping_ms_) return;
  ping_outstanding_ = true;
  ping_deadline_ms_ = now + options_.liveness_timeout_ms;
  outbox_.request_ping(++ping_sequence_);
  flush_outgoing();
}

void init_loop::schedule_runtime_restart(uint64_t uptime_ms, const char* why) {
  const uint32_t delay = backoff_.on_exit(uptime_ms);
  restart_at_ms_ = monotonic_ms() + delay;
  log_notice(log_line{} << "restarting runtime in " << duration_text{delay} << " (" << why << ", attempt "
                        << backoff_.consecutive_failures() << ")");
}

void init_loop::close_ipc() {
  if (ipc_fd_ < 0) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ipc_fd_, nullptr);
  ::close(ipc_fd_);
  ipc_fd_ = -1;
  outbox_.reset();
  fifos_.drop_pending();
}

void init_loop::start_emergency_shell(const char* why) {
  if (container_mode_ || shell_pid_ != 0) return;
  if (::access(options_.shell_path, X_OK) < 0) {
    log_error(log_line{} << "no emergency shell at " << options_.shell_path << " (" << why << ")");
    return;
  }
  const spawn_result r = spawn_emergency_shell(options_.shell_path);
  if (r.pid < 0) {
    log_error(log_line{} << "cannot start emergency shell: " << errno_text{r.error});
    return;
  }
  shell_pid_ = r.pid;
  log_error(log_line{} << "emergency shell started on the console (pid " << r.pid << "): " << why);
}

void init_loop::on_ipc_readable() {
  for (;;) {
    if (ipc_fd_ < 0) return;
    bool truncated = false;
    const ssize_t n = fifos_.receive(ipc_fd_, reader_.write_ptr(), reader_.write_space(), truncated);
    if (truncated) log_warning(log_line{} << "descriptors from the runtime were dropped (out of descriptors?)");
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      // The runtime closed its end; its exit arrives through SIGCHLD.
      log_debug(log_line{} << "runtime closed the IPC channel");
      close_ipc();
      return;
    }
    reader_.commit(static_cast<size_t>(n));
    protocol::frame_view frame;
    protocol::frame_status s;
    while ((s = reader_.next(frame)) == protocol::frame_status::ok) {
      init_message m;
      const protocol::decode_status d = protocol::decode(frame, m);
      if (d != protocol::decode_status::ok) {
        log_warning(log_line{} << "ignoring message type " << static_cast<unsigned>(frame.type)
                               << " from runtime: " << protocol::to_string(d));
        continue;
      }
      on_message(m);
      if (ipc_fd_ < 0) return;
    }
    if (s != protocol::frame_status::need_more) {
      // The stream cannot be resynchronised: drop the channel and make the runtime start over.
      log_error(log_line{} << "garbage on the IPC channel (" << protocol::to_string(s)
                           << "); closing it and stopping runtime pid " << runtime_pid_);
      close_ipc();
      // (Not while draining an exited runtime: its pid is reaped and may be reused.)
      if (runtime_pid_ > 0 && !draining_exit_ && ::kill(runtime_pid_, SIGTERM) < 0) {
        log_error(log_line{} << "kill(runtime): " << errno_text{errno});
      }
      return;
    }
  }
}

void init_loop::on_message(const init_message& m) {
  // Any message was sent by the pid1_link actor just now: the runtime turns, even if a pong is late because
  // its scheduler is busy (a boot that spawns thousands of services under emulation). Hung = silent.
  if (ping_outstanding_) ping_deadline_ms_ = monotonic_ms() + options_.liveness_timeout_ms;
  switch (m.type) {
    case init_msg::ready:
      if (!runtime_ready_) {
        runtime_ready_ = true;
        log_notice(log_line{} << "runtime ready (pid " << runtime_pid_ << ", generation " << generation_ << ", "
                              << duration_text{boot_time_ms()} << " after kernel start)");
      }
      flush_outgoing();
      break;
    case init_msg::shutdown: begin_shutdown(m.mode, "the runtime"); break;
    case init_msg::track:
      if (!orphans_.track(static_cast<pid_t>(m.pid))) {
        log_warning(log_line{} << "cannot track pid " << m.pid << ": table full");
      }
      break;
    case init_msg::untrack: orphans_.untrack(static_cast<pid_t>(m.pid)); break;
    case init_msg::give_up:
      runtime_gave_up_ = true;
      log_error(log_line{} << "the root supervisor gave up: " << m.text);
      break;
    case init_msg::stopped: log_notice(log_line{} << "runtime reports every service stopped"); break;
    case init_msg::pong:
      if (ping_outstanding_ && m.sequence == ping_sequence_) {
        ping_outstanding_ = false;
        next_ping_ms_ = monotonic_ms() + options_.liveness_interval_ms;
      }
      break;
    case init_msg::hold_fifo: {
      const fd_holder::result r = fifos_.hold_next();
      // A few words per refusal, not thousands of lines: the 1st, 2nd, 4th, 8th ...
      if (r == fd_holder::result::held || r == fd_holder::result::already_held) break;
      ++fifos_refused_;
      if ((fifos_refused_ & (fifos_refused_ - 1)) == 0) {
        log_warning(log_line{} << "not holding a log FIFO for the runtime: " << to_string(r) << " (" << fifos_refused_
                               << " refused, " << fifos_.held() << " held)");
      }
      break;
    }
    case init_msg::drop_fifo: fifos_.release(m.device, m.inode); break;
    default:
      log_warning(log_line{} << "ignoring " << protocol::to_string(m.type) << " sent by the runtime");
      break;
  }
}

void init_loop::flush_outgoing() {
  if (ipc_fd_ < 0) return;
  for (;;) {
    // Control messages first, then orphan exits (once the runtime has re-adopted its services): a buffer
    // full of orphan exits delays a stop_all, never drops it.
    outbox_.fill(orphans_, runtime_ready_);
    if (outbox_.size() == 0) break;
    const ssize_t w = ::send(ipc_fd_, outbox_.data(), outbox_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    if (w < 0) {
      log_warning(log_line{} << "IPC send: " << errno_text{errno});
      close_ipc();
      return;
    }
    outbox_.consume(static_cast<size_t>(w));
  }
  update_epoll_ipc();
}

void init_loop::on_ipc_writable() { flush_outgoing(); }

void init_loop::update_epoll_ipc() {
  if (ipc_fd_ < 0) return;
  const bool want = outbox_.size() > 0 || outbox_.control_pending();
  if (want == ipc_want_write_) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u64 = kTagIpc;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, ipc_fd_, &ev) == 0) ipc_want_write_ = want;
}

void init_loop::begin_shutdown(power_mode mode, const char* cause) {
  if (shutting_down_) {
    log_notice(log_line{} << "shutdown already in progress (" << protocol::to_string(shutdown_mode_)
                          << "); ignoring " << cause);
    return;
  }
  shutting_down_ = true;
  shutdown_mode_ = mode;
  restart_at_ms_ = 0;
  log_notice(log_line{} << "shutdown requested by " << cause << ": " << protocol::to_string(mode));
  const uint64_t now = monotonic_ms();
  stop_deadline_ms_ = now + options_.stop_timeout_ms;
  next_progress_ms_ = now + kProgressEveryMs;
  if (runtime_pid_ == 0) {
    // In restart back-off: the services of the last runtime still run. Start one now, without waiting,
    // to stop them in order (start_runtime sends stop_all with the hello); if none starts, or none ever
    // ran, the fallback is final_shutdown's SIGTERM to all.
    if (generation_ == 0) finish();
    log_notice(log_line{} << "no runtime is running; starting one to stop the services in order");
    if (!start_runtime()) finish();
  } else if (ipc_fd_ < 0) {
    // The channel was dropped (garbage) and the runtime told to stop: nothing to ask it any more.
    finish();
  } else {
    outbox_.request_stop_all(mode);
    flush_outgoing();
  }
  log_notice(log_line{} << "asked the runtime to stop all services (waiting up to "
                        << duration_text{options_.stop_timeout_ms} << ")");
}

void init_loop::finish() {
  if (runtime_pid_ > 0) {
    log_warning(log_line{} << "runtime pid " << runtime_pid_ << " still running; it is stopped with the rest");
  }
  fifos_.close_all();  // held log FIFOs would keep /run busy
  finish_shutdown(shutdown_mode_, options_, container_mode_);
}

void init_loop::on_timer() {
  uint64_t expirations;
  while (::read(timer_fd_, &expirations, sizeof expirations) > 0) {
  }
  const uint64_t now = monotonic_ms();
  if (shutting_down_) {
    if (now >= stop_deadline_ms_) {
      log_warning(log_line{} << "the runtime did not stop the services within "
                             << duration_text{options_.stop_timeout_ms} << "; continuing");
      finish();
    }
    if (now >= next_progress_ms_) {
      log_notice(log_line{} << "still waiting for the runtime to stop services ("
                            << duration_text{stop_deadline_ms_ - now} << " left)");
      next_progress_ms_ = now + kProgressEveryMs;
    }
    return;
  }
  check_liveness(now);
  if (restart_at_ms_ != 0 && now >= restart_at_ms_ && runtime_pid_ == 0) start_runtime();
}

void init_loop::arm_timer() {
  uint64_t deadline = 0;
  auto consider = [&deadline](uint64_t t) {
    if (t != 0 && (deadline == 0 || t < deadline)) deadline = t;
  };
  if (shutting_down_) {
    consider(stop_deadline_ms_);
    consider(next_progress_ms_);
  } else {
    consider(restart_at_ms_);
    if (options_.liveness_interval_ms != 0 && runtime_pid_ > 0 && ipc_fd_ >= 0 && !killed_as_hung_) {
      consider(ping_outstanding_ ? ping_deadline_ms_ : next_ping_ms_);
    }
  }
  itimerspec spec{};
  if (deadline != 0) {
    // An absolute time of 0 would disarm the timer: use at least 1 ns.
    spec.it_value.tv_sec = static_cast<time_t>(deadline / 1000);
    spec.it_value.tv_nsec = static_cast<long>(deadline % 1000) * 1000000L + 1;
  }
  if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) < 0) {
    log_error(log_line{} << "timerfd_settime: " << errno_text{errno});
  }
}

}  // namespace dynamod::init
