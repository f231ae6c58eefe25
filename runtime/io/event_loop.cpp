#include "runtime/io/event_loop.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "actors/messages.hpp"

namespace dynamod {

namespace {
constexpr uint64_t kWakeKey = ~uint64_t{0};
constexpr uint64_t kSignalKey = ~uint64_t{0} - 1;
}  // namespace

event_loop::event_loop() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

event_loop::~event_loop() {
  stop();
  for (int fd : {epoll_fd_, wake_fd_, signal_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

bool event_loop::start(const sigset_t& signals, caf::actor signal_target) {
  if (epoll_fd_ < 0 || wake_fd_ < 0) return false;
  signal_target_ = std::move(signal_target);
  signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) return false;
  for (auto [fd, key] : {std::pair{wake_fd_, kWakeKey}, std::pair{signal_fd_, kSignalKey}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = key;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void event_loop::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  // Handles are dropped outside the lock: dropping the last reference to an actor runs its state's
  // destructor, which may call forget() on this very loop.
  std::map<int, registration> dropped;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopped_ = true;
    dropped.swap(watches_);
    signal_routes_.clear();
  }
  dropped.clear();
  signal_target_ = nullptr;
}

bool event_loop::watch(int fd, uint32_t events, caf::actor target, uint64_t tag) {
  registration previous;  // released after the lock (see stop())
  std::lock_guard<std::mutex> guard{mutex_};
  if (stopped_) return false;  // actors winding down after stop() must not store handles here
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = static_cast<uint64_t>(fd);
  const bool known = watches_.count(fd) > 0;
  if (::epoll_ctl(epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
    // A stale registration (fd closed and reused without forget) is replaced.
    if (errno == ENOENT && known && ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) {
    } else if (errno == EEXIST && !known && ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0) {
    } else {
      spdlog::warn("epoll watch of fd {} failed: {}", fd, std::strerror(errno));
      return false;
    }
  }
  previous = std::exchange(watches_[fd], registration{std::move(target), tag});
  return true;
}

void event_loop::route_signal(int signo, caf::actor target) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (!stopped_) signal_routes_[signo] = std::move(target);
}

void event_loop::forget(int fd) {
  registration previous;  // released after the lock (see stop())
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  previous = std::move(it->second);
  watches_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

size_t event_loop::watched_count() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return watches_.size();
}

void event_loop::run() {
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("epoll_wait: {}", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t key = events[i].data.u64;
      if (key == kWakeKey) return;
      if (key == kSignalKey) {
        signalfd_siginfo si;
        while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
          const int signo = static_cast<int>(si.ssi_signo);
          caf::actor target;
          {
            std::lock_guard<std::mutex> guard{mutex_};
            auto it = signal_routes_.find(signo);
            target = it != signal_routes_.end() ? it->second : signal_target_;
          }
          if (signo == SIGCHLD && target != signal_target_) {
            caf::anon_send(target, sigchld_atom_v);
          } else {
            caf::anon_send(target, signal_atom_v, signo);
          }
        }
        continue;
      }
      const int fd = static_cast<int>(key);
      registration reg;
      {
        std::lock_guard<std::mutex> guard{mutex_};
        auto it = watches_.find(fd);
        if (it == watches_.end()) continue;
        reg = it->second;
      }
      caf::anon_send(reg.target, io_ready_atom_v, reg.tag, static_cast<uint32_t>(events[i].events));
    }
  }
}

}  // namespace dynamod
