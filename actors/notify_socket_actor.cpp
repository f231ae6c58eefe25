#include "actors/notify_socket_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <unordered_map>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

namespace {

constexpr int kMaxFds = 768;  // as systemd accepts per message
constexpr int kMaxAncestry = 16;
constexpr size_t kMaxPending = 4096;         // messages waiting for their sender's registration, in total ...
constexpr size_t kMaxPendingPerUid = 256;    // ... and per sender uid
constexpr size_t kMaxHeldFds = 4096;         // descriptors held until their service has handled the message ...
constexpr size_t kMaxHeldFdsPerUid = 1024;   // ... per sender uid; beyond either they are closed at once
constexpr auto kPendingFor = std::chrono::seconds(2);
constexpr auto kRetryEvery = std::chrono::milliseconds(100);

// A message whose sender is not (yet) known: a service can say READY=1 before the runtime has
// registered the pid it just spawned. Its text waits a little for the registration; its descriptors do not
// (they were closed on arrival: anyone may send to the socket, and each one held is one the runtime lacks).
struct pending_message {
  pid_t sender = 0;
  uid_t uid = 0;
  notify_fields fields;
  std::chrono::steady_clock::time_point received;
};

struct notify_state {
  int fd = -1;
  runtime_context_ptr context;
  std::unordered_map<int, caf::actor> owners;  // main pid -> service actor
  std::deque<pending_message> pending;
  std::unordered_map<uid_t, size_t> pending_by_uid;
  std::unordered_map<uid_t, size_t> held_by_uid;  // descriptors of delivered messages not yet handled
  size_t held = 0;
  uint64_t fds_closed_unattributed = 0;
  uint64_t fds_closed_over_limit = 0;
  uint64_t pending_dropped = 0;
  bool expiry_scheduled = false;
  uint64_t received = 0;
  uint64_t unattributed = 0;
  static inline const char* name = "notify_socket";
  ~notify_state() {
    if (fd >= 0) {
      context->loop->forget(fd);
      ::close(fd);
    }
  }
};

using self_ptr = caf::stateful_actor<notify_state>*;

// The service a pid belongs to: itself, or its nearest registered ancestor.
caf::actor owner_of(notify_state& st, pid_t pid) {
  for (int depth = 0; depth < kMaxAncestry && pid > 1; ++depth) {
    auto it = st.owners.find(pid);
    if (it != st.owners.end()) return it->second;
    auto proc = read_proc_status(pid);
    if (!proc) break;
    pid = proc->parent;
  }
  return nullptr;
}

void close_all(const std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
}

void deliver(self_ptr self, const caf::actor& owner, notify_fields fields, pid_t sender, uid_t uid, std::vector<int> fds) {
  auto& st = self->state;
  if (!fds.empty() && (st.held + fds.size() > kMaxHeldFds || st.held_by_uid[uid] + fds.size() > kMaxHeldFdsPerUid)) {
    // Bounded: past the limit the barrier is released early rather than the runtime running out of descriptors.
    st.fds_closed_over_limit += fds.size();
    close_all(fds);
    fds.clear();
  }
  const size_t count = fds.size();
  st.held += count;
  st.held_by_uid[uid] += count;
  auto release = [self, fds, uid, count] {
    close_all(fds);
    auto& st = self->state;
    st.held -= count;
    auto it = st.held_by_uid.find(uid);
    if (it != st.held_by_uid.end() && (it->second -= count) == 0) st.held_by_uid.erase(it);
  };
  // BARRIER=1 (sd_notify_barrier) waits for its pipe to be closed: close it only once the service
  // has handled everything sent before, which the reply to this request guarantees.
  self->request(owner, caf::infinite, notify_atom_v, std::move(fields), static_cast<int>(sender))
      .then([release](bool) { release(); }, [release](caf::error&) { release(); });
}

void drop_pending_front(notify_state& st) {
  auto it = st.pending_by_uid.find(st.pending.front().uid);
  if (it != st.pending_by_uid.end() && --it->second == 0) st.pending_by_uid.erase(it);
  st.pending.pop_front();
}

// With `only_pid`, delivers just what that (newly registered) pid sent itself: cheap, and the usual case
// of a service saying READY=1 the moment it starts. Without it, walks every sender's ancestry again.
void retry_pending(self_ptr self, pid_t only_pid = 0) {
  auto& st = self->state;
  for (auto it = st.pending.begin(); it != st.pending.end();) {
    if (only_pid != 0 && it->sender != only_pid) {
      ++it;
      continue;
    }
    if (caf::actor owner = owner_of(st, it->sender)) {
      deliver(self, owner, std::move(it->fields), it->sender, it->uid, {});
      auto by_uid = st.pending_by_uid.find(it->uid);
      if (by_uid != st.pending_by_uid.end() && --by_uid->second == 0) st.pending_by_uid.erase(by_uid);
      it = st.pending.erase(it);
    } else {
      ++it;
    }
  }
}

void expire_pending(self_ptr self) {
  auto& st = self->state;
  const auto now = std::chrono::steady_clock::now();
  while (!st.pending.empty() && (now - st.pending.front().received >= kPendingFor || st.pending.size() > kMaxPending)) {
    ++st.unattributed;
    spdlog::debug("notify: message from pid {} that belongs to no service, ignored", st.pending.front().sender);
    drop_pending_front(st);
  }
}

void receive(self_ptr self) {
  auto& st = self->state;
  for (;;) {
    char data[8192];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFds)];
    iovec iov{data, sizeof data - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(st.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: drained
    }
    std::vector<int> fds;
    pid_t sender = 0;
    uid_t uid = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
        uid = cred.uid;
      } else if (c->cmsg_type == SCM_RIGHTS) {
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds.push_back(fd);
        }
      }
    }
    ++st.received;
    if (static_cast<size_t>(n) >= sizeof data - 1) {
      spdlog::warn("notify: datagram from pid {} too large, ignored", sender);
      close_all(fds);
      continue;
    }
    auto fields = parse_notify_datagram(std::string(data, static_cast<size_t>(n)));
    caf::actor owner = sender > 0 ? owner_of(st, sender) : caf::actor{};
    if (!owner) {
      if (!fds.empty()) {
        st.fds_closed_unattributed += fds.size();
        close_all(fds);
      }
      if (st.pending_by_uid[uid] >= kMaxPendingPerUid) {
        ++st.pending_dropped;
        ++st.unattributed;
        continue;
      }
      ++st.pending_by_uid[uid];
      st.pending.push_back({sender, uid, std::move(fields), std::chrono::steady_clock::now()});
      expire_pending(self);
      if (!st.expiry_scheduled) {
        st.expiry_scheduled = true;
        self->delayed_send(self, kRetryEvery, tick_atom_v);
      }
      continue;
    }
    deliver(self, owner, std::move(fields), sender, uid, std::move(fds));
  }
  st.context->loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_notify_datagram(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

int open_notify_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  ::unlink(path.c_str());
  const int one = 1;
  // Services run as any user: the socket must be writable by all, as systemd's /run/systemd/notify.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::chmod(path.c_str(), 0777) < 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  const int size = 1 << 20;  // room for bursts from many services starting at once
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

static caf::behavior notify_socket(self_ptr self, int fd, runtime_context_ptr context) {
  self->state.fd = fd;
  self->state.context = std::move(context);
  self->state.context->loop->watch(fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
  return {
      [=](io_ready_atom, uint64_t, uint32_t) { receive(self); },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "notify_socket"}, {"name", st.context->paths.state_dir + "/notify"}, {"state", "listening"},
                              {"registered", st.owners.size()}, {"received", st.received}, {"pending", st.pending.size()},
                              {"unattributed", st.unattributed}, {"fds_held", st.held},
                              {"fds_closed_unattributed", st.fds_closed_unattributed},
                              {"fds_closed_over_limit", st.fds_closed_over_limit}, {"pending_dropped", st.pending_dropped},
                              {"mailbox", self->mailbox().size()}});
      },
      [=](watch_pid_atom, int pid, caf::actor owner) {
        self->state.owners[pid] = std::move(owner);
        if (!self->state.pending.empty()) retry_pending(self, pid);
      },
      // A pid a service named (MAINPID=, pid file): it may not take over another service's registration.
      [=](watch_pid_atom, int pid, caf::actor owner, bool claimed) {
        auto& st = self->state;
        auto it = st.owners.find(pid);
        if (claimed && (pid <= 1 || pid == ::getpid() || (it != st.owners.end() && it->second != owner))) {
          spdlog::warn("notify: refused a claim on pid {}: it is {}", pid,
                       pid <= 1 || pid == ::getpid() ? "not a service's" : "registered to another service");
          return;
        }
        st.owners[pid] = std::move(owner);
        if (!st.pending.empty()) retry_pending(self, pid);
      },
      [=](tick_atom) {
        auto& st = self->state;
        st.expiry_scheduled = false;
        retry_pending(self);  // senders that are descendants of a service registered meanwhile
        expire_pending(self);
        if (!st.pending.empty()) {
          st.expiry_scheduled = true;
          self->delayed_send(self, kRetryEvery, tick_atom_v);
        }
      },
      [=](unwatch_pid_atom, int pid) {
        // Only the owner may drop its registration: the pid may already belong to someone else.
        auto it = self->state.owners.find(pid);
        if (it != self->state.owners.end() && it->second.address() == self->current_sender()) self->state.owners.erase(it);
      },
  };
}

caf::actor spawn_notify_socket(caf::event_based_actor* parent, int fd, runtime_context_ptr context) {
  return parent->spawn<caf::linked>(notify_socket, fd, std::move(context));
}

}  // namespace dynamod
