#include "actors/control_listener_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "actors/control_session_actor.hpp"
#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

struct control_listener_state {
  int fd = -1;
  event_loop* loop = nullptr;
  uint64_t accepted = 0;
  std::vector<caf::actor> sessions;
  static inline const char* name = "control_listener";
  ~control_listener_state() {
    if (fd >= 0) {
      loop->forget(fd);
      ::close(fd);
    }
  }
};

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
  context->loop->watch(listen_fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
  // Sessions end on their own; only the runtime (our parent) going away ends us, and with us every session.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source == runtime.address()) {
      self->quit(msg.reason ? msg.reason : caf::exit_reason::user_shutdown);
      return;
    }
    auto& s = self->state.sessions;
    s.erase(std::remove_if(s.begin(), s.end(), [&](const caf::actor& a) { return a.address() == msg.source; }), s.end());
  });
  return {
      [=](io_ready_atom, uint64_t, uint32_t) {
        auto& st = self->state;
        for (;;) {
          const int fd = ::accept4(st.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN) spdlog::warn("control socket accept: {}", std::strerror(errno));
            break;
          }
          ucred cred{};
          socklen_t len = sizeof cred;
          if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
            ::close(fd);
            continue;
          }
          ++st.accepted;
          self->state.sessions.push_back(
              spawn_control_session(self, fd, client_identity{cred.pid, cred.uid, cred.gid}, context, runtime));
        }
        st.loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "control_listener"}, {"name", context->paths.control_socket}, {"state", "listening"},
                              {"sessions", st.sessions.size()}, {"accepted", st.accepted},
                              {"mailbox", self->mailbox().size()}});
      },
  };
}

caf::actor spawn_control_listener(caf::event_based_actor* runtime, int listen_fd, runtime_context_ptr context) {
  return runtime->spawn<caf::linked>(control_listener_actor, listen_fd, std::move(context),
                                     caf::actor_cast<caf::actor>(runtime));
}

}  // namespace dynamod
