#include "pid1/init_log.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace dynamod::init {

log_line& log_line::append(const char* s, size_t n) {
  const size_t room = sizeof buf_ - n_;
  if (n > room) n = room;
  std::memcpy(buf_ + n_, s, n);
  n_ += n;
  return *this;
}

log_line& log_line::operator<<(const char* s) { return s ? append(s, std::strlen(s)) : append("(null)", 6); }

log_line& log_line::operator<<(char c) { return append(&c, 1); }

log_line& log_line::operator<<(unsigned long long v) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return append(tmp + i, sizeof tmp - i);
}

log_line& log_line::operator<<(long long v) {
  if (v < 0) {
    *this << '-';
    return *this << static_cast<unsigned long long>(-(v + 1)) + 1ULL;
  }
  return *this << static_cast<unsigned long long>(v);
}

log_line& log_line::operator<<(duration_text d) {
  const unsigned long long ms = d.ms;
  if (ms < 1000) return *this << static_cast<unsigned long long>(ms) << "ms";
  *this << static_cast<unsigned long long>(ms / 1000);
  if (ms % 1000 >= 100 && ms < 100000) *this << '.' << static_cast<unsigned long long>(ms % 1000 / 100);
  return *this << 's';
}

log_line& log_line::operator<<(errno_text e) {
  const char* text = strerrordesc_np(e.value);  // static table: no allocation, unlike strerror
  if (text == nullptr) return *this << "errno " << e.value;
  return *this << text;
}

namespace {
int g_kmsg_fd = -1;
bool g_debug = false;

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // nowhere else to report a logging failure
    p += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

void log_set_sink(int kmsg_fd, bool debug_enabled) {
  g_kmsg_fd = kmsg_fd;
  g_debug = debug_enabled;
}

void log_write(log_level level, const log_line& line) {
  if (level == log_level::debug && !g_debug) return;
  const int saved_errno = errno;
  char out[sizeof(log_line) + 32];
  size_t n = 0;
  if (g_kmsg_fd >= 0) {
    out[n++] = '<';
    out[n++] = static_cast<char>('0' + static_cast<int>(level));
    out[n++] = '>';
  }
  static const char prefix[] = "dynamod-init: ";
  std::memcpy(out + n, prefix, sizeof prefix - 1);
  n += sizeof prefix - 1;
  std::memcpy(out + n, line.data(), line.size());
  n += line.size();
  out[n++] = '\n';
  // kmsg takes one record per write(); stderr gets the same bytes.
  write_all(g_kmsg_fd >= 0 ? g_kmsg_fd : STDERR_FILENO, out, n);
  errno = saved_errno;
}

}  // namespace dynamod::init
