#include "pid1/mountinfo.hpp"

#include <cstring>

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

bool is_mount_point(const char* mountinfo, size_t length, const char* path) {
  mountinfo_parser parser{mountinfo, length};
  mount_entry e;
  while (parser.next(e)) {
    if (std::strcmp(e.mount_point, path) == 0) return true;
  }
  return false;
}

}  // namespace dynamod::init
