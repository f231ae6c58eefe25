#include "dynamodctl/control_client.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace dynamod {

control_client::~control_client() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> control_client::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return "socket path too long: " + path;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return std::string{"socket: "} + std::strerror(errno);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    return "cannot connect to " + path + ": " + std::strerror(err) +
           (err == ENOENT || err == ECONNREFUSED ? " (is dynamod running?)" : "");
  }
  return std::nullopt;
}

uint32_t control_client::send(const std::string& command, const std::vector<std::string>& args, uint32_t flags) {
  protocol::control_request req{next_id_++, command, args, flags};
  std::vector<uint8_t> out;
  protocol::encode_request(req, out);
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  return req.id;
}

std::optional<protocol::control_reply> control_client::next_reply(std::string& error, int timeout_ms) {
  for (;;) {
    protocol::frame_view frame;
    size_t frame_size = 0;
    const auto s = protocol::peek_frame(buffer_.data(), buffer_.size(), protocol::kControlProtocolVersion,
                                        protocol::kControlMaxReply, frame, frame_size);
    if (s == protocol::frame_status::ok) {
      protocol::control_reply reply;
      const bool ok = protocol::decode_reply(frame, reply, error);
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(frame_size));
      if (!ok) return std::nullopt;
      return reply;
    }
    if (s != protocol::frame_status::need_more) {
      error = std::string{"bad reply from the runtime: "} + protocol::to_string(s);
      return std::nullopt;
    }
    if (timeout_ms >= 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) == 0) {
        error = "timed out waiting for the runtime";
        return std::nullopt;
      }
    }
    uint8_t chunk[65536];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n == 0 ? "the runtime closed the connection" : std::string{"read: "} + std::strerror(errno);
      return std::nullopt;
    }
    buffer_.insert(buffer_.end(), chunk, chunk + n);
  }
}

std::optional<protocol::control_reply> control_client::call(
    const std::string& command, const std::vector<std::string>& args, uint32_t flags, std::string& error,
    const std::function<void(const protocol::control_reply&)>& on_event, int timeout_ms) {
  const uint32_t id = send(command, args, flags);
  for (;;) {
    auto reply = next_reply(error, timeout_ms);
    if (!reply) return std::nullopt;
    // id 0 is the runtime's answer to a request it could not even decode.
    if (reply->id != id && reply->id != 0) continue;
    if (reply->kind == protocol::reply_kind::event) {
      if (on_event) on_event(*reply);
      continue;
    }
    return reply;
  }
}

}  // namespace dynamod
