#include "pid1/mountinfo.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace dynamod::init {

namespace {

// Next space-separated field of [p, end); returns false if there is none.
bool field(const char*& p, const char* end, const char*& f, size_t& n) {
  while (p < end && *p == ' ') ++p;
  if (p >= end) return false;
  f = p;
  while (p < end && *p != ' ') ++p;
  n = static_cast<size_t>(p - f);
  return true;
}

bool parse_int(const char* s, size_t n, int& out) {
  if (n == 0 || n > 9) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// The kernel escapes space, tab, newline and backslash in paths as \ooo octal.
bool is_octal(char c, char max) { return c >= '0' && c <= max; }

bool unescape(const char* s, size_t n, char* out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '\\' && n - i >= 4 && is_octal(s[i + 1], '3') && is_octal(s[i + 2], '7') &&
        is_octal(s[i + 3], '7')) {
      c = static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    }
    if (k + 1 >= cap) return false;
    out[k++] = c;
  }
  out[k] = '\0';
  return true;
}

}  // namespace

bool parse_mountinfo_line(const char* line, size_t length, mount_entry& out) {
  // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
  const char* p = line;
  const char* end = line + length;
  const char* f;
  size_t n;
  if (!field(p, end, f, n) || !parse_int(f, n, out.id)) return false;
  if (!field(p, end, f, n) || !parse_int(f, n, out.parent_id)) return false;
  if (!field(p, end, f, n)) return false;  // major:minor
  if (!field(p, end, f, n)) return false;  // root within the filesystem
  if (!field(p, end, f, n) || !unescape(f, n, out.mount_point, sizeof out.mount_point)) return false;
  // Optional fields end with a lone "-".
  for (;;) {
    if (!field(p, end, f, n)) return false;
    if (n == 1 && f[0] == '-') break;
  }
  if (!field(p, end, f, n) || !unescape(f, n, out.fstype, sizeof out.fstype)) return false;
  if (!field(p, end, f, n) || !unescape(f, n, out.source, sizeof out.source)) return false;
  return true;
}

bool mountinfo_parser::next(mount_entry& out) {
  while (pos_ < length_) {
    const char* line = text_ + pos_;
    const void* nl = std::memchr(line, '\n', length_ - pos_);
    const size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - line) : length_ - pos_;
    pos_ += n + (nl ? 1 : 0);
    if (n == 0) continue;
    if (parse_mountinfo_line(line, n, out)) return true;
    ++malformed_;
  }
  return false;
}

bool mountinfo_stream::next(mount_entry& out) {
  for (;;) {
    const void* nl = std::memchr(buffer_ + start_, '\n', end_ - start_);
    if (nl || (eof_ && start_ < end_)) {
      const char* line = buffer_ + start_;
      const size_t n = nl ? static_cast<size_t>(static_cast<const char*>(nl) - line) : end_ - start_;
      start_ += n + (nl ? 1 : 0);
      if (skipping_) {  // the tail of an overlong line
        skipping_ = false;
        continue;
      }
      if (n == 0) continue;
      if (parse_mountinfo_line(line, n, out)) return true;
      ++malformed_;
      continue;
    }
    if (eof_) return false;
    // No complete line left: keep the partial one and read more behind it.
    if (start_ > 0) {
      std::memmove(buffer_, buffer_ + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (end_ == capacity_) {
      // One line fills the whole buffer: drop it and what remains of it.
      if (!skipping_) ++overlong_;
      skipping_ = true;
      end_ = 0;
    }
    const long r = read_(context_, buffer_ + end_, capacity_ - end_);
    if (r < 0) {
      error_ = static_cast<int>(-r);
      eof_ = true;
    } else if (r == 0) {
      eof_ = true;
    } else {
      end_ += static_cast<size_t>(r);
    }
    if (eof_ && skipping_) {
      start_ = end_ = 0;
      skipping_ = false;
    }
  }
}

long read_fd_chunk(void* context, char* buffer, size_t capacity) {
  const int fd = *static_cast<int*>(context);
  for (;;) {
    const ssize_t n = ::read(fd, buffer, capacity);
    if (n >= 0) return static_cast<long>(n);
    if (errno != EINTR) return -errno;
  }
}

void unmount_tail::offer(const mount_entry& e) {
  if (std::strcmp(e.mount_point, "/") == 0 || given_up(e.id)) return;
  entry& slot = entries_[head_];
  slot.id = e.id;
  std::memcpy(slot.mount_point, e.mount_point, sizeof slot.mount_point);
  head_ = (head_ + 1) % kCapacity;
  if (count_ < kCapacity) ++count_;
}

bool unmount_tail::give_up(int id) {
  if (given_up(id)) return true;
  if (given_up_count_ == kMaxGivenUp) return false;
  given_up_[given_up_count_++] = id;
  return true;
}

bool unmount_tail::given_up(int id) const {
  for (size_t i = 0; i < given_up_count_; ++i) {
    if (given_up_[i] == id) return true;
  }
  return false;
}

bool is_mount_point(const char* mountinfo, size_t length, const char* path) {
  mountinfo_parser parser{mountinfo, length};
  mount_entry e;
  while (parser.next(e)) {
    if (std::strcmp(e.mount_point, path) == 0) return true;
  }
  return false;
}

}  // namespace dynamod::init
