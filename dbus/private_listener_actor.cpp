#include "dbus/private_listener_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "dbus/bus_actor.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod::dbus {

namespace {

constexpr int kAcceptBatch = 32;

struct listener_state {
  static inline const char* name = "dbus_private";
  runtime_context_ptr ctx;
  dbus_settings settings;
  caf::actor jobs;
  int fd = -1;
  std::vector<caf::actor> connections;
  uint64_t accepted = 0;
  uint64_t turned_away = 0;
  listener_state() = default;
  listener_state(const listener_state&) = delete;
  listener_state& operator=(const listener_state&) = delete;
  ~listener_state() {  // CAF 0.17 destroys the state when the actor exits
    if (fd < 0) return;
    if (ctx && ctx->loop) ctx->loop->forget(fd);
    ::close(fd);
  }
};
using listener_self = caf::stateful_actor<listener_state>*;

void accept_clients(listener_self self) {
  auto& st = self->state;
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int client = ::accept4(st.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) break;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        st.connections.size() >= kMaxPrivateConnections) {
      ++st.turned_away;
      ::close(client);
      continue;
    }
    ++st.accepted;
    bus_args args;
    args.role = bus_role::private_systemd1;
    args.ctx = st.ctx;
    args.settings = st.settings;
    args.jobs = st.jobs;
    args.peer_fd = client;
    args.peer_uid = cred.uid;
    st.connections.push_back(spawn_bus_actor(self, std::move(args)));
  }
  st.ctx->loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
}

caf::behavior private_listener(listener_self self, runtime_context_ptr ctx, dbus_settings settings, caf::actor jobs, int fd) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.settings = std::move(settings);
  st.jobs = std::move(jobs);
  st.fd = fd;
  // Its connections are temporary children: a client's end (or a crash serving it) ends only that one.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& c = self->state.connections;
    const auto before = c.size();
    c.erase(std::remove_if(c.begin(), c.end(), [&](const caf::actor& a) { return a.address() == msg.source; }), c.end());
    if (c.size() == before) self->quit(msg.reason);  // from our own parent
    else if (msg.reason && msg.reason != caf::exit_reason::normal) {
      spdlog::warn("dbus: a private connection ended: {}", caf::to_string(msg.reason));
    }
  });
  st.ctx->loop->watch(fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
  return {
      [=](io_ready_atom, uint64_t, uint32_t) { accept_clients(self); },
      [=](tree_atom) -> caf::result<std::string> {
        auto& s = self->state;
        auto node = std::make_shared<nlohmann::json>(nlohmann::json{
            {"kind", "dbus_listener"},
            {"name", "systemd1 private socket"},
            {"state", "listening"},
            {"address", s.settings.systemd_dir + "/private"},
            {"accepted", s.accepted},
            {"turned_away", s.turned_away},
            {"mailbox", self->mailbox().size()},
            {"children", nlohmann::json::array()}});
        auto rp = self->make_response_promise<std::string>();
        auto pending = std::make_shared<size_t>(s.connections.size() + 1);
        auto one = [=]() mutable {
          if (--*pending == 0) rp.deliver(json_text(*node));
        };
        for (const auto& c : s.connections) {
          self->request(c, std::chrono::seconds(5), tree_atom_v)
              .then([=](const std::string& json) mutable {
                      (*node)["children"].push_back(nlohmann::json::parse(json, nullptr, false));
                      one();
                    },
                    [=](caf::error&) mutable { one(); });
        }
        one();
        return rp;
      },
  };
}

int bind_private_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::copy(path.begin(), path.end(), addr.sun_path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  ::unlink(path.c_str());  // a previous runtime's
  const mode_t old = ::umask(0077);  // root's alone, from the first moment
  const int r = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (r < 0 || ::listen(fd, 64) < 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

}  // namespace

caf::actor spawn_private_listener(caf::local_actor* parent, runtime_context_ptr ctx, dbus_settings settings, caf::actor jobs) {
  const std::string path = settings.systemd_dir + "/private";
  const int fd = bind_private_socket(path);
  if (fd < 0) {
    spdlog::error("dbus: cannot listen on {}: {}", path, strerror(errno));
    return {};
  }
  return parent->spawn<caf::linked>(private_listener, std::move(ctx), std::move(settings), std::move(jobs), fd);
}

}  // namespace dynamod::dbus
