#include "pid1/root_options.hpp"

#include <cstring>

namespace dynamod::init {

namespace {

bool equals(const char* a, size_t n, const char* literal) {
  return std::strlen(literal) == n && std::memcmp(a, literal, n) == 0;
}

bool starts_with(const char* a, size_t n, const char* literal) {
  const size_t l = std::strlen(literal);
  return n >= l && std::memcmp(a, literal, l) == 0;
}

template <size_t N>
bool copy_text(const char* v, size_t n, char (&out)[N]) {
  if (n == 0 || n >= N) return false;
  for (size_t i = 0; i < n; ++i) {
    if (v[i] == '\0') return false;
  }
  std::memcpy(out, v, n);
  out[n] = '\0';
  return true;
}

bool parse_seconds(const char* v, size_t n, uint32_t& ms) {
  if (n == 0 || n > 6) return false;  // at most 999999 s
  uint32_t s = 0;
  for (size_t i = 0; i < n; ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
    s = s * 10 + static_cast<uint32_t>(v[i] - '0');
  }
  if (s > 4000000) return false;
  ms = s * 1000;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_number(const char* v, size_t n, int base, uint32_t& out) {
  if (n == 0 || n > 8) return false;
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = base == 16 ? hex_digit(v[i]) : (v[i] >= '0' && v[i] <= '9' ? v[i] - '0' : -1);
    if (d < 0) return false;
    x = x * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (x > UINT32_MAX) return false;
  out = static_cast<uint32_t>(x);
  return true;
}

// root=MAJ:MIN (decimal) or root=XXXX (hex, the kernel's new_decode_dev of old-style numbers: minor in the low
// byte and bits 20..31, major in bits 8..19).
bool parse_devnum(const char* v, size_t n, root_options& r) {
  if (const void* colon = std::memchr(v, ':', n)) {
    const size_t k = static_cast<size_t>(static_cast<const char*>(colon) - v);
    return parse_number(v, k, 10, r.major) && parse_number(v + k + 1, n - k - 1, 10, r.minor);
  }
  uint32_t dev = 0;
  if (!parse_number(v, n, 16, dev)) return false;
  r.major = (dev & 0xfff00) >> 8;
  r.minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return true;
}

bool parse_root(const char* v, size_t n, root_options& r) {
  struct prefix {
    const char* text;
    root_kind kind;
  };
  // udev's /dev/disk/by-* links name the same things; without udev (the initramfs) they are read as such.
  static const prefix prefixes[] = {{"UUID=", root_kind::uuid},
                                    {"PARTUUID=", root_kind::partuuid},
                                    {"LABEL=", root_kind::label},
                                    {"PARTLABEL=", root_kind::partlabel},
                                    {"/dev/disk/by-uuid/", root_kind::uuid},
                                    {"/dev/disk/by-partuuid/", root_kind::partuuid},
                                    {"/dev/disk/by-label/", root_kind::label},
                                    {"/dev/disk/by-partlabel/", root_kind::partlabel}};
  for (const auto& p : prefixes) {
    if (!starts_with(v, n, p.text)) continue;
    const size_t l = std::strlen(p.text);
    root_options tmp = r;
    if (!copy_text(v + l, n - l, tmp.value)) return false;
    tmp.kind = p.kind;
    r = tmp;
    return true;
  }
  if (n > 0 && v[0] == '/') {
    root_options tmp = r;
    if (!copy_text(v, n, tmp.value)) return false;
    tmp.kind = root_kind::path;
    r = tmp;
    return true;
  }
  root_options tmp = r;
  if (!parse_devnum(v, n, tmp) || !copy_text(v, n, tmp.value)) return false;
  tmp.kind = root_kind::devnum;
  r = tmp;
  return true;
}

}  // namespace

bool apply_root_word(const char* key, size_t key_len, const char* value, size_t value_len, root_options& r,
                     bool* bad) {
  bool ok = true;
  if (equals(key, key_len, "root")) {
    ok = value && parse_root(value, value_len, r);
  } else if (equals(key, key_len, "rootfstype")) {
    ok = value && copy_text(value, value_len, r.fstype);
  } else if (equals(key, key_len, "rootflags")) {
    ok = value && copy_text(value, value_len, r.flags);
  } else if (equals(key, key_len, "ro") && !value) {
    r.read_write = false;
  } else if (equals(key, key_len, "rw") && !value) {
    r.read_write = true;
  } else if (equals(key, key_len, "rootwait")) {
    uint32_t ms = 0;
    ok = !value || parse_seconds(value, value_len, ms);
    if (ok) {
      r.wait = true;
      r.wait_ms = ms;
    }
  } else if (equals(key, key_len, "rootdelay")) {
    ok = value && parse_seconds(value, value_len, r.delay_ms);
  } else if (equals(key, key_len, "init")) {
    ok = value && value_len > 0 && value[0] == '/' && copy_text(value, value_len, r.init);
  } else {
    return false;
  }
  if (bad) *bad = !ok;
  return true;
}

void format_uuid(const uint8_t uuid[16], char out[37]) {
  static const char digits[] = "0123456789abcdef";
  size_t k = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
    out[k++] = digits[uuid[i] >> 4];
    out[k++] = digits[uuid[i] & 15];
  }
  out[k] = '\0';
}

bool uuid_matches(const char* written, const uint8_t uuid[16]) {
  int i = 0;
  int half = 0;
  uint8_t byte = 0;
  for (const char* p = written; *p; ++p) {
    if (*p == '-') continue;
    const int d = hex_digit(*p);
    if (d < 0 || i == 16) return false;
    byte = static_cast<uint8_t>((byte << 4) | d);
    if (++half == 2) {
      if (byte != uuid[i++]) return false;
      half = 0;
      byte = 0;
    }
  }
  return i == 16 && half == 0;
}

}  // namespace dynamod::init
