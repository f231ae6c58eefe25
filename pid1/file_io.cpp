#include "pid1/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace dynamod::init {

long read_file(const char* path, char* buffer, size_t capacity) {
  if (capacity == 0) return -EINVAL;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return -errno;
  size_t total = 0;
  while (total + 1 < capacity) {
    const ssize_t n = ::read(fd, buffer + total, capacity - 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return -err;
    }
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  buffer[total] = '\0';
  ::close(fd);
  return static_cast<long>(total);
}

int write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

int write_file(const char* path, const void* data, size_t size, mode_t mode) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, mode);
  if (fd < 0) return -errno;
  int rc = write_all(fd, data, size);
  if (::close(fd) < 0 && rc == 0) rc = -errno;
  return rc;
}

int make_directories(const char* path, mode_t mode) {
  char buf[256];
  const size_t n = std::strlen(path);
  if (n == 0 || n >= sizeof buf) return -ENAMETOOLONG;
  std::memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    const char saved = buf[i];
    buf[i] = '\0';
    if (::mkdir(buf, mode) < 0 && errno != EEXIST) return -errno;
    buf[i] = saved;
  }
  return 0;
}

uint64_t monotonic_ms() {
  timespec ts{};
  // CLOCK_MONOTONIC cannot fail with a valid clock id and pointer.
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void sleep_ms(uint32_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

}  // namespace dynamod::init
