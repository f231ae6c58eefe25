#include "actors/control_listener_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/control_session_actor.hpp"
#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "protocol/control_messages.hpp"
#include "runtime/io/client_limits.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

namespace {
// Out of descriptors, accept is retried after this (the queued connection would wake us at once: a busy loop).
constexpr auto kAcceptBackoff = std::chrono::milliseconds(200);
constexpr auto kLogInterval = std::chrono::seconds(10);
// Connections taken per wakeup: a client reconnecting in a loop cannot keep the listener from its mailbox.
constexpr int kAcceptsPerWakeup = 64;
}  // namespace

struct control_listener_state {
  struct session {
    caf::actor actor;
    uid_t uid;
  };
  int fd = -1;
  int reserve_fd = -1;  // closed to accept-and-drop a connection when descriptors run out
  event_loop* loop = nullptr;
  uint64_t accepted = 0;
  uint64_t refused = 0;  // over a session limit
  uint64_t shed = 0;     // dropped for lack of descriptors
  bool backing_off = false;
  session_admission admission;
  std::shared_ptr<client_load> load = std::make_shared<client_load>();
  log_throttle refusal_log{kLogInterval};
  log_throttle shortage_log{kLogInterval};
  std::vector<session> sessions;
  static inline const char* name = "control_listener";
  ~control_listener_state() {
    if (fd >= 0) {
      loop->forget(fd);
      ::close(fd);
    }
    if (reserve_fd >= 0) ::close(reserve_fd);
  }
};

namespace {

using listener_ptr = caf::stateful_actor<control_listener_state>*;

// The peer's supplementary groups (SO_PEERGROUPS, Linux 4.13) include `gid`.
bool peer_in_group(int fd, gid_t gid) {
  gid_t groups[256];
  socklen_t len = sizeof groups;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) return false;
  for (size_t i = 0; i < len / sizeof(gid_t); ++i) {
    if (groups[i] == gid) return true;
  }
  return false;
}

// Tells a refused client why, best effort (the socket buffer of a fresh connection has room), and closes it.
void refuse(int fd, const std::string& why) {
  std::vector<uint8_t> frame;
  protocol::encode_reply(protocol::control_reply{0, protocol::reply_kind::error, 1, json_text(nlohmann::json{{"error", why}})},
                         frame);
  (void)!::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

// EMFILE/ENFILE: the connection stays queued and would wake us again at once. Take it with the reserve
// descriptor and close it, so the queue drains, then pause accepting for a moment.
void shed_connection(listener_ptr self, int err) {
  auto& st = self->state;
  if (st.reserve_fd >= 0) {
    ::close(st.reserve_fd);
    st.reserve_fd = -1;
    const int fd = ::accept4(st.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
      ++st.shed;
    }
    st.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (st.shortage_log.occurred(std::chrono::steady_clock::now())) {
    spdlog::warn("control socket: out of descriptors ({}); dropping new connections ({} dropped so far, {} "
                 "sessions open)",
                 std::strerror(err), st.shed, st.sessions.size());
  }
}

void accept_all(listener_ptr self, const runtime_context_ptr& context, const caf::actor& runtime) {
  auto& st = self->state;
  for (int taken = 0; taken < kAcceptsPerWakeup; ++taken) {
    const int fd = ::accept4(st.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        shed_connection(self, errno);
        st.backing_off = true;
        self->delayed_send(self, kAcceptBackoff, tick_atom_v);
        return;
      }
      if (errno != EAGAIN) spdlog::warn("control socket accept: {}", std::strerror(errno));
      break;
    }
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
      ::close(fd);
      continue;
    }
    // The runtime's own user (user mode) is as much an admin as root.
    const bool admin = cred.uid == 0 || cred.uid == ::geteuid();
    if (!st.admission.admit(cred.uid, admin)) {
      ++st.refused;
      if (st.refusal_log.occurred(std::chrono::steady_clock::now())) {
        spdlog::warn("control socket: refusing a connection of uid {} (pid {}): {} sessions of that uid, {} in all "
                     "({} refused so far)",
                     cred.uid, cred.pid, st.admission.of(cred.uid), st.admission.total(), st.refused);
      }
      refuse(fd, "too many connections (uid " + std::to_string(cred.uid) + " has " +
                     std::to_string(st.admission.of(cred.uid)) + ", all clients " +
                     std::to_string(st.admission.total()) + "); try again later");
      continue;
    }
    client_identity client{cred.pid, cred.uid, cred.gid};
    client.admin = admin;
    const long group = context->log_group;
    client.may_read_logs =
        admin || (group >= 0 && (cred.gid == static_cast<gid_t>(group) || peer_in_group(fd, static_cast<gid_t>(group))));
    ++st.accepted;
    st.sessions.push_back({spawn_control_session(self, fd, client, context, runtime, st.load), cred.uid});
  }
  // One-shot: fires again at once if connections are still queued, after what else is in our mailbox.
  st.loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
}

}  // namespace

int open_control_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  ::unlink(path.c_str());
  // Anyone may connect and read; mutating requests are checked per request with SO_PEERCRED.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::chmod(path.c_str(), 0666) < 0 ||
      ::listen(fd, 1024) < 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

static caf::behavior control_listener_actor(caf::stateful_actor<control_listener_state>* self, int listen_fd,
                                     runtime_context_ptr context, caf::actor runtime) {
  self->state.fd = listen_fd;
  self->state.loop = context->loop;
  self->state.reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  context->loop->watch(listen_fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
  // Sessions end on their own; only the runtime (our parent) going away ends us, and with us every session.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source == runtime.address()) {
      self->quit(msg.reason ? msg.reason : caf::exit_reason::user_shutdown);
      return;
    }
    auto& s = self->state.sessions;
    auto it = std::find_if(s.begin(), s.end(), [&](const auto& x) { return x.actor.address() == msg.source; });
    if (it == s.end()) return;
    self->state.admission.release(it->uid);
    s.erase(it);
  });
  return {
      [=](io_ready_atom, uint64_t, uint32_t) {
        if (!self->state.backing_off) accept_all(self, context, runtime);
      },
      [=](tick_atom) {
        self->state.backing_off = false;
        accept_all(self, context, runtime);
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "control_listener"}, {"name", context->paths.control_socket}, {"state", "listening"},
                              {"sessions", st.sessions.size()}, {"accepted", st.accepted},
                              {"refused", st.refused}, {"dropped_for_descriptors", st.shed},
                              {"reply_bytes", st.load->held()}, {"trees_in_flight", st.load->trees()},
                              {"mailbox", self->mailbox().size()}});
      },
  };
}

caf::actor spawn_control_listener(caf::event_based_actor* runtime, int listen_fd, runtime_context_ptr context) {
  return runtime->spawn<caf::linked>(control_listener_actor, listen_fd, std::move(context),
                                     caf::actor_cast<caf::actor>(runtime));
}

}  // namespace dynamod
