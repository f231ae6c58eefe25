#include "actors/readiness_probe_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/messages.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/process/spawn.hpp"

namespace dynamod {

using namespace std::chrono_literals;

std::string describe_readiness(const service_config& c) {
  switch (c.readiness) {
    case readiness_type::none: return "none";
    case readiness_type::notify: return "notify (READY=1)";
    case readiness_type::tcp_port: return "tcp-port " + c.host + ":" + std::to_string(c.port);
    case readiness_type::exec: return "exec " + (c.check_exec.empty() ? std::string{} : c.check_exec.front());
    case readiness_type::fd: return "fd " + std::to_string(c.ready_fd);
  }
  return "?";
}

namespace {

constexpr auto kTcpPollInterval = 100ms;

struct probe_state {
  probe_args args;
  caf::actor service;
  int fd = -1;           // tcp: the connecting socket; fd: the readiness pipe
  pid_t check_pid = 0;   // exec: the running check
  int failures = 0;
  uint64_t generation = 0;  // check timeout / retry timers
  std::string buffered;
  static inline const char* name = "readiness_probe";
  ~probe_state() {
    if (fd >= 0) {
      args.context->loop->forget(fd);
      ::close(fd);
    }
    if (check_pid > 0) ::kill(-check_pid, SIGKILL);
  }
};

using self_ptr = caf::stateful_actor<probe_state>*;

void close_fd(self_ptr self) {
  auto& st = self->state;
  if (st.fd < 0) return;
  st.args.context->loop->forget(st.fd);
  ::close(st.fd);
  st.fd = -1;
}

void succeed(self_ptr self) {
  self->send(self->state.service, ready_atom_v);
  self->quit();
}

// tcp-port: a non-blocking connect; refused means "not yet", and we try again shortly.
void tcp_attempt(self_ptr self) {
  auto& st = self->state;
  const auto& c = *st.args.config;
  close_fd(self);
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, c.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(c.port));
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, c.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(c.port));
    len = sizeof *v6;
  } else {
    self->send(st.service, probe_fail_atom_v, "readiness host '" + c.host + "' is not an IP address");
    self->quit();
    return;
  }
  st.fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (st.fd < 0) {
    self->delayed_send(self, kTcpPollInterval, tick_atom_v, st.generation);
    return;
  }
  if (::connect(st.fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) {
    succeed(self);
    return;
  }
  if (errno == EINPROGRESS) {
    st.args.context->loop->watch(st.fd, EPOLLOUT, caf::actor_cast<caf::actor>(self), 0);
    return;
  }
  close_fd(self);
  self->delayed_send(self, kTcpPollInterval, tick_atom_v, st.generation);
}

void exec_attempt(self_ptr self) {
  auto& st = self->state;
  const auto& c = *st.args.config;
  // As the service itself, never as the runtime's root (a check is the service's code).
  const spawn_result r = st.args.setup ? spawn_service_helper(*st.args.setup, c.check_exec)
                                       : spawn_result{-1, 0, "no process setup"};
  if (!r.ok()) {
    self->send(st.service, probe_fail_atom_v, "readiness check " + c.check_exec.front() + ": " + r.describe());
    self->quit();
    return;
  }
  st.check_pid = r.pid;
  self->send(st.service, check_pid_atom_v, static_cast<int>(r.pid));  // never the service's main pid (MAINPID=)
  self->send(st.args.context->reaper, watch_pid_atom_v, static_cast<int>(r.pid), r.pidfd, caf::actor_cast<caf::actor>(self));
  self->delayed_send(self, c.check_timeout, timeout_atom_v, uint8_t{0}, ++st.generation);
}

}  // namespace

static caf::behavior readiness_probe(self_ptr self, probe_args args, caf::actor service) {
  auto& st = self->state;
  st.args = std::move(args);
  st.service = std::move(service);
  const auto& c = *st.args.config;
  switch (c.readiness) {
    case readiness_type::tcp_port: tcp_attempt(self); break;
    case readiness_type::exec: exec_attempt(self); break;
    case readiness_type::fd:
      st.fd = st.args.ready_fd;
      st.args.context->loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
      break;
    default: break;
  }
  return {
      [=](tick_atom, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation) return;
        if (st.args.config->readiness == readiness_type::tcp_port) tcp_attempt(self);
        if (st.args.config->readiness == readiness_type::exec) exec_attempt(self);
      },
      [=](io_ready_atom, uint64_t, uint32_t events) {
        auto& st = self->state;
        if (st.fd < 0) return;
        if (st.args.config->readiness == readiness_type::tcp_port) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(st.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err == 0 && (events & EPOLLOUT)) {
            succeed(self);
            return;
          }
          close_fd(self);
          self->delayed_send(self, kTcpPollInterval, tick_atom_v, st.generation);
          return;
        }
        // fd readiness (s6): a newline written to the fd means ready.
        char buf[256];
        for (;;) {
          const ssize_t n = ::read(st.fd, buf, sizeof buf);
          if (n > 0) {
            if (std::memchr(buf, '\n', static_cast<size_t>(n)) != nullptr) {
              succeed(self);
              return;
            }
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno == EAGAIN) break;
          close_fd(self);  // closed without a newline: never ready; the start timeout decides
          return;
        }
        st.args.context->loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
      },
      [=](child_exit_atom, int pid, int status) {
        auto& st = self->state;
        if (pid != st.check_pid) return;
        st.check_pid = 0;
        ++st.generation;  // cancels the check timeout
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          succeed(self);
          return;
        }
        ++st.failures;
        const int retries = st.args.config->check_retries;
        if (retries > 0 && st.failures >= retries) {
          self->send(st.service, probe_fail_atom_v,
                     "readiness check failed " + std::to_string(st.failures) + " time(s)");
          self->quit();
          return;
        }
        self->delayed_send(self, st.args.config->check_interval, tick_atom_v, st.generation);
      },
      [=](timeout_atom, uint8_t, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.generation || st.check_pid <= 0) return;
        spdlog::warn("{}: readiness check took longer than {} ms, killing it", st.args.config->name,
                     st.args.config->check_timeout.count());
        ::kill(-st.check_pid, SIGKILL);  // its exit then counts as a failed check
      },
  };
}

caf::actor spawn_readiness_probe(caf::event_based_actor* service, probe_args args) {
  return service->spawn<caf::linked>(readiness_probe, std::move(args), caf::actor_cast<caf::actor>(service));
}

}  // namespace dynamod
