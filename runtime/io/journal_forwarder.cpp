#include "runtime/io/journal_forwarder.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dynamod {

namespace {

constexpr int64_t kRetryAbsentMs = 5000;
constexpr size_t kMaxText = 48 * 1024;  // one line of a service; journald takes datagrams up to its buffer size

int64_t now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void field(std::string& out, std::string_view key, std::string_view value) {
  if (value.find('\n') == std::string_view::npos) {
    out.append(key).append("=").append(value).append("\n");
    return;
  }
  out.append(key).append("\n");
  uint64_t size = value.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));  // little-endian
  out.append(value).append("\n");
}

}  // namespace

journal_forwarder::journal_forwarder(std::string socket_path) : path_(std::move(socket_path)) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

journal_forwarder::~journal_forwarder() {
  if (fd_ >= 0) ::close(fd_);
}

std::string journal_forwarder::datagram(std::string_view unit, std::string_view identifier, bool stderr_stream,
                                        std::string_view text) {
  std::string out;
  out.reserve(text.size() + unit.size() + identifier.size() + 80);
  field(out, "MESSAGE", text.substr(0, kMaxText));
  field(out, "PRIORITY", stderr_stream ? "3" : "6");
  field(out, "SYSLOG_IDENTIFIER", identifier);
  field(out, "OBJECT_SYSTEMD_UNIT", unit);
  return out;
}

void journal_forwarder::send(std::string_view unit, std::string_view identifier, bool stderr_stream,
                             std::string_view text) {
  if (fd_ < 0) return;
  const int64_t now = now_ms();
  if (now < absent_until_ms_.load(std::memory_order_relaxed)) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) return;
  std::copy(path_.begin(), path_.end(), addr.sun_path);
  const std::string d = datagram(unit, identifier, stderr_stream, text);
  if (::sendto(fd_, d.data(), d.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) >= 0) {
    sent_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR) {
    absent_until_ms_.store(now + kRetryAbsentMs, std::memory_order_relaxed);  // no journald (yet)
  } else {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // EAGAIN: journald is behind; the log file has the line
  }
}

}  // namespace dynamod
