#include "actors/pid1_link_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

using protocol::init_message;
using protocol::init_msg;

struct pid1_link_state {
  int fd = -1;
  event_loop* loop = nullptr;
  caf::actor runtime;
  caf::actor reaper;
  uint8_t storage[protocol::kInitMaxFrame];
  protocol::frame_reader reader{storage, sizeof storage, protocol::kInitProtocolVersion};
  uint32_t generation = 0;
  static inline const char* name = "pid1_link";

  ~pid1_link_state() {
    if (fd >= 0) {
      if (loop) loop->forget(fd);
      ::close(fd);
    }
  }
};

namespace {

// Messages are tiny and PID 1 always reads: a bounded wait for buffer space is enough.
bool send_message(pid1_link_state& st, const init_message& m) {
  uint8_t buf[protocol::kInitMaxFrame];
  const size_t n = protocol::encode(m, buf, sizeof buf);
  size_t off = 0;
  while (off < n) {
    const ssize_t w = ::send(st.fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      off += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd p{st.fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) > 0) continue;
    }
    spdlog::error("cannot send {} to dynamod-init: {}", protocol::to_string(m.type), std::strerror(errno));
    return false;
  }
  return true;
}

// hold_fifo carries the FIFO's descriptor (SCM_RIGHTS) with the frame's first byte; PID 1 keeps it open
// so that the pipe and what a service wrote into it outlive this runtime. `fd` is a copy of the log sink's descriptor, ours to close.
bool send_fifo(pid1_link_state& st, int fd) {
  struct stat s {};
  if (fd < 0 || ::fstat(fd, &s) < 0 || !S_ISFIFO(s.st_mode)) {
    spdlog::warn("cannot hand a log FIFO to dynamod-init: {}", fd < 0 ? "no descriptor" : "not a FIFO");
    if (fd >= 0) ::close(fd);
    return false;
  }
  init_message m;
  m.type = init_msg::hold_fifo;
  uint8_t buf[protocol::kInitMaxFrame];
  const size_t n = protocol::encode(m, buf, sizeof buf);
  iovec iov{buf, n};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t w;
  for (;;) {
    w = ::sendmsg(st.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd p{st.fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) > 0) continue;
    }
    break;
  }
  const int error = errno;
  ::close(fd);
  if (w <= 0) {
    spdlog::error("cannot send hold-fifo to dynamod-init: {}", std::strerror(error));
    return false;
  }
  // The rest of a partly sent frame goes without the descriptor, which travelled with its first byte.
  size_t off = static_cast<size_t>(w);
  while (off < n) {
    const ssize_t more = ::send(st.fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (more > 0) {
      off += static_cast<size_t>(more);
      continue;
    }
    if (more < 0 && errno == EINTR) continue;
    pollfd p{st.fd, POLLOUT, 0};
    if (more < 0 && errno == EAGAIN && ::poll(&p, 1, 1000) > 0) continue;
    spdlog::error("cannot send hold-fifo to dynamod-init: {}", std::strerror(errno));
    return false;
  }
  return true;
}

init_message message(init_msg type) {
  init_message m;
  m.type = type;
  return m;
}

}  // namespace

static caf::behavior pid1_link_actor(caf::stateful_actor<pid1_link_state>* self, int fd, event_loop* loop,
                              caf::actor runtime) {
  auto& st = self->state;
  st.fd = fd;
  st.loop = loop;
  st.runtime = std::move(runtime);
  loop->watch(fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
  auto pid_message = [](init_msg type, int pid) {
    init_message m = message(type);
    m.pid = static_cast<uint32_t>(pid);
    return m;
  };
  return {
      [=](reaper_atom, caf::actor reaper) { self->state.reaper = std::move(reaper); },
      [=](tree_atom) {
        return json_text(nlohmann::json{{"kind", "pid1_link"}, {"name", "dynamod-init link"}, {"state", "connected"},
                              {"generation", self->state.generation}, {"pid", 1}, {"mailbox", self->mailbox().size()}});
      },
      [=](io_ready_atom, uint64_t, uint32_t) {
        auto& st = self->state;
        for (;;) {
          const ssize_t n = ::read(st.fd, st.reader.write_ptr(), st.reader.write_space());
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && errno == EAGAIN) break;
          if (n <= 0) {
            spdlog::error("dynamod-init closed the IPC channel");
            self->quit(caf::sec::socket_disconnected);
            return;
          }
          st.reader.commit(static_cast<size_t>(n));
          protocol::frame_view frame;
          protocol::frame_status s;
          while ((s = st.reader.next(frame)) == protocol::frame_status::ok) {
            init_message m;
            if (protocol::decode(frame, m) != protocol::decode_status::ok) {
              spdlog::warn("ignoring malformed message type {} from dynamod-init", frame.type);
              continue;
            }
            switch (m.type) {
              case init_msg::hello:
                st.generation = m.generation;
                spdlog::info("connected to dynamod-init (runtime generation {})", m.generation);
                break;
              case init_msg::stop_all:
                self->send(st.runtime, stop_all_atom_v, static_cast<uint8_t>(m.mode));
                break;
              case init_msg::orphan_exit:
                if (st.reaper) self->send(st.reaper, child_exit_atom_v, static_cast<int>(m.pid), m.wait_status);
                break;
              case init_msg::ping: {
                // Answered from this actor: a runtime whose scheduler or event loop hangs misses PID 1's deadline.
                init_message pong = message(init_msg::pong);
                pong.sequence = m.sequence;
                send_message(st, pong);
                break;
              }
              default: spdlog::warn("ignoring {} from dynamod-init", protocol::to_string(m.type)); break;
            }
          }
          if (s != protocol::frame_status::need_more) {
            spdlog::error("garbage from dynamod-init: {}", protocol::to_string(s));
            self->quit(caf::sec::invalid_argument);
            return;
          }
        }
        st.loop->watch(st.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), 0);
      },
      [=](ready_atom) { send_message(self->state, message(init_msg::ready)); },
      [=](track_atom, int pid) { send_message(self->state, pid_message(init_msg::track, pid)); },
      [=](untrack_atom, int pid) { send_message(self->state, pid_message(init_msg::untrack, pid)); },
      [=](shutdown_atom, uint8_t mode) {
        init_message m = message(init_msg::shutdown);
        m.mode = static_cast<protocol::power_mode>(mode);
        send_message(self->state, m);
      },
      [=](stopped_atom) { send_message(self->state, message(init_msg::stopped)); },
      [=](hold_fifo_atom, int fd) { send_fifo(self->state, fd); },
      [=](drop_fifo_atom, const std::string& path) {
        struct stat s {};
        if (::stat(path.c_str(), &s) < 0) return;  // gone: PID 1 holds no descriptor we could name
        init_message m = message(init_msg::drop_fifo);
        m.device = static_cast<uint64_t>(s.st_dev);
        m.inode = static_cast<uint64_t>(s.st_ino);
        send_message(self->state, m);
      },
      [=](give_up_atom, const std::string& why) {
        init_message m = message(init_msg::give_up);
        const size_t n = std::min(why.size(), protocol::kInitMaxText);
        std::memcpy(m.text, why.data(), n);
        m.text_length = static_cast<uint16_t>(n);
        send_message(self->state, m);
      },
  };
}

caf::actor spawn_pid1_link(caf::event_based_actor* runtime, int fd, event_loop* loop) {
  return runtime->spawn<caf::linked>(pid1_link_actor, fd, loop, caf::actor_cast<caf::actor>(runtime));
}

}  // namespace dynamod
