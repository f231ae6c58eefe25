// The runtime's one I/O thread: an epoll set that turns fd readiness and signals into CAF messages.
// It never reads or writes payload itself: actors do that when told an fd is ready. Watches are
// one-shot (EPOLLONESHOT), so an actor re-arms only when it has drained what it was told about;
// a busy actor therefore applies back-pressure instead of queueing unbounded notifications.
#pragma once

#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include <csignal>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace dynamod {

class event_loop {
 public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Must outlive the actor system (actors call forget() from their destructors); stop() it before the
  // actor system is destroyed, so that no actor handle outlives the system. Starts the thread. `signals` must already be blocked in every thread; each delivery is sent to
  // `signal_target` as (signal_atom, int signo).
  bool start(const sigset_t& signals, caf::actor signal_target);
  void stop();
  // Sends `signo` straight to `target` instead of the default target (SIGCHLD to the reaper: one hop less
  // between a process dying and its restart).
  void route_signal(int signo, caf::actor target);

  // Arms a one-shot watch: when `fd` is ready for `events` (EPOLLIN/EPOLLOUT), `target` receives
  // (io_ready_atom, uint64_t tag, uint32_t revents) once. Call again to re-arm.
  bool watch(int fd, uint32_t events, caf::actor target, uint64_t tag);
  // Removes the watch; call before closing the fd.
  void forget(int fd);

  size_t watched_count() const;

 private:
  void run();

  struct registration {
    caf::actor target;
    uint64_t tag = 0;
  };
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int signal_fd_ = -1;
  caf::actor signal_target_;
  std::map<int, caf::actor> signal_routes_;
  mutable std::mutex mutex_;
  std::map<int, registration> watches_;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace dynamod
