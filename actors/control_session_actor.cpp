#include "actors/control_session_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/messages.hpp"
#include "protocol/control_messages.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

using protocol::control_reply;
using protocol::control_request;
using protocol::reply_kind;

struct control_session_state {
  int fd = -1;
  client_identity client;
  runtime_context_ptr context;
  caf::actor runtime;
  std::vector<uint8_t> in_storage = std::vector<uint8_t>(protocol::kControlMaxRequest);
  protocol::frame_reader reader{in_storage.data(), in_storage.size(), protocol::kControlProtocolVersion};
  std::vector<uint8_t> out;
  bool closing = false;  // close once `out` is flushed
  static inline const char* name = "control_session";
  ~control_session_state() {
    if (fd >= 0) {
      context->loop->forget(fd);
      ::close(fd);
    }
  }
};

namespace {

using self_ptr = caf::stateful_actor<control_session_state>*;
constexpr size_t kMaxPendingOutput = 64 * 1024 * 1024;  // a client that never reads is dropped

void arm(self_ptr self) {
  auto& st = self->state;
  uint32_t events = st.closing ? 0u : static_cast<uint32_t>(EPOLLIN);
  if (!st.out.empty()) events |= EPOLLOUT;
  if (events == 0) {
    self->quit();
    return;
  }
  st.context->loop->watch(st.fd, events, caf::actor_cast<caf::actor>(self), 0);
}

void flush(self_ptr self) {
  auto& st = self->state;
  size_t off = 0;
  while (off < st.out.size()) {
    const ssize_t n = ::send(st.fd, st.out.data() + off, st.out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    st.out.clear();  // the client is gone
    st.closing = true;
    return;
  }
  st.out.erase(st.out.begin(), st.out.begin() + static_cast<std::ptrdiff_t>(off));
  if (st.out.size() > kMaxPendingOutput) {
    spdlog::warn("control client pid {} does not read its replies; dropping it", st.client.pid);
    st.out.clear();
    st.closing = true;
  }
}

void reply(self_ptr self, uint32_t id, reply_kind kind, uint8_t exit_code, std::string json) {
  control_reply r{id, kind, exit_code, std::move(json)};
  protocol::encode_reply(r, self->state.out);
  flush(self);
}

void reply_error(self_ptr self, uint32_t id, uint8_t exit_code, const std::string& message) {
  reply(self, id, reply_kind::error, exit_code, nlohmann::json{{"error", message}}.dump());
}

bool may_mutate(self_ptr self) {
  const uid_t uid = self->state.client.uid;
  return uid == 0 || uid == ::geteuid();
}

void dispatch(self_ptr self, const control_request& req) {
  const uint32_t id = req.id;
  auto on_error = [=](caf::error& err) { reply_error(self, id, 1, "internal error: " + caf::to_string(err)); arm(self); };
  if (req.command == "list") {
    self->request(self->state.runtime, std::chrono::seconds(30), list_atom_v)
        .then([=](const std::string& json) {
          reply(self, id, reply_kind::result, 0, json);
          arm(self);
        }, on_error);
  } else if (req.command == "shutdown") {
    protocol::power_mode mode;
    if (req.args.size() != 1 || !protocol::parse_power_mode(req.args[0].c_str(), mode)) {
      reply_error(self, id, 2, "usage: shutdown poweroff|reboot|halt");
    } else if (!may_mutate(self)) {
      reply_error(self, id, 4, "permission denied: shutdown needs root");
    } else {
      spdlog::info("shutdown ({}) requested by uid {} pid {}", req.args[0], self->state.client.uid,
                   self->state.client.pid);
      self->send(self->state.runtime, shutdown_atom_v, static_cast<uint8_t>(mode));
      reply(self, id, reply_kind::result, 0, nlohmann::json{{"shutdown", req.args[0]}}.dump());
    }
  } else {
    reply_error(self, id, 2, "unknown command '" + req.command + "'");
  }
}

void on_readable(self_ptr self) {
  auto& st = self->state;
  for (;;) {
    const ssize_t n = ::read(st.fd, st.reader.write_ptr(), st.reader.write_space());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      st.closing = true;  // client closed (or reset): answer what is pending, then go
      return;
    }
    st.reader.commit(static_cast<size_t>(n));
    protocol::frame_view frame;
    protocol::frame_status s;
    while ((s = st.reader.next(frame)) == protocol::frame_status::ok) {
      control_request req;
      std::string error;
      if (!protocol::decode_request(frame, req, error)) {
        reply_error(self, 0, 2, "bad request: " + error);
        st.closing = true;
        return;
      }
      dispatch(self, req);
    }
    if (s != protocol::frame_status::need_more) {
      reply_error(self, 0, 2, std::string{"bad frame: "} + protocol::to_string(s));
      st.closing = true;
      return;
    }
  }
}

}  // namespace

static caf::behavior control_session_actor(self_ptr self, int fd, client_identity client, runtime_context_ptr context,
                                    caf::actor runtime) {
  auto& st = self->state;
  st.fd = fd;
  st.client = client;
  st.context = std::move(context);
  st.runtime = std::move(runtime);
  arm(self);
  return {
      [=](io_ready_atom, uint64_t, uint32_t events) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(self);
        if (!self->state.out.empty()) flush(self);
        arm(self);
      },
  };
}

caf::actor spawn_control_session(caf::event_based_actor* listener, int fd, client_identity client,
                                 runtime_context_ptr context, caf::actor runtime) {
  return listener->spawn<caf::linked>(control_session_actor, fd, client, std::move(context), std::move(runtime));
}

}  // namespace dynamod
