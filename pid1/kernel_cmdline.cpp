#include "pid1/kernel_cmdline.hpp"

#include <cstring>

namespace dynamod::init {

void cmdline_warnings::add(const char* what, const char* token, size_t token_len) {
  if (count == kMax) {
    ++dropped;
    return;
  }
  char* out = text[count++];
  const size_t cap = sizeof text[0] - 1;
  size_t n = 0;
  for (const char* p = what; *p && n < cap; ++p) out[n++] = *p;
  for (const char* p = ": "; *p && n < cap; ++p) out[n++] = *p;
  for (size_t i = 0; i < token_len && n < cap; ++i) out[n++] = token[i];
  out[n] = '\0';
}

bool parse_duration_ms(const char* s, size_t n, uint32_t& out, uint32_t bare_scale_ms) {
  if (n == 0) return false;
  uint64_t value = 0;
  size_t i = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) {
    value = value * 10 + static_cast<uint64_t>(s[i] - '0');
    if (value > UINT32_MAX) return false;
  }
  if (i == 0) return false;
  const size_t unit_len = n - i;
  const char* unit = s + i;
  uint64_t scale = 0;
  if (unit_len == 0) {
    scale = bare_scale_ms;
  } else if (unit_len == 1 && unit[0] == 's') {
    scale = 1000;
  } else if (unit_len == 2 && unit[0] == 'm' && unit[1] == 's') {
    scale = 1;
  } else if (unit_len == 1 && unit[0] == 'm') {
    scale = 60000;
  } else {
    return false;
  }
  value *= scale;
  if (value > UINT32_MAX) return false;
  out = static_cast<uint32_t>(value);
  return true;
}

namespace {

bool equals(const char* a, size_t n, const char* literal) {
  return std::strlen(literal) == n && std::memcmp(a, literal, n) == 0;
}

// Copies an absolute path without its double quotes into `out`, which is left untouched unless the
// whole value is valid.
template <size_t N>
bool copy_absolute_path(const char* v, size_t n, char (&out)[N]) {
  char tmp[N];
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    if (v[i] == '"') continue;
    if (k + 1 >= N) return false;
    tmp[k++] = v[i];
  }
  if (k == 0 || tmp[0] != '/') return false;
  tmp[k] = '\0';
  std::memcpy(out, tmp, k + 1);
  return true;
}

bool parse_backoff(const char* v, size_t n, init_options& o) {
  uint32_t parts[3] = {o.backoff_initial_ms, o.backoff_max_ms, o.backoff_reset_ms};
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i == n || v[i] == ',') {
      // Inside backoff= bare numbers are milliseconds: the schedule starts sub-second.
      if (count == 3 || !parse_duration_ms(v + start, i - start, parts[count], 1)) return false;
      ++count;
      start = i + 1;
    }
  }
  if (count < 2 || parts[0] == 0 || parts[1] < parts[0]) return false;
  o.backoff_initial_ms = parts[0];
  o.backoff_max_ms = parts[1];
  o.backoff_reset_ms = parts[2];
  return true;
}

// dynamod.liveness=INTERVAL,DEADLINE (bare numbers are seconds); 0 as the interval turns the ping off.
bool parse_liveness(const char* v, size_t n, init_options& o) {
  const void* comma = std::memchr(v, ',', n);
  if (!comma) return false;
  const size_t first = static_cast<size_t>(static_cast<const char*>(comma) - v);
  uint32_t interval = 0;
  uint32_t deadline = 0;
  if (!parse_duration_ms(v, first, interval) || !parse_duration_ms(v + first + 1, n - first - 1, deadline)) {
    return false;
  }
  if (interval != 0 && deadline == 0) return false;
  o.liveness_interval_ms = interval;
  o.liveness_timeout_ms = deadline;
  return true;
}

// A word that is not dynamod's: the kernel's words about the root, or nothing of ours.
void apply_other_word(const char* w, size_t n, init_options& o, cmdline_warnings& warn) {
  const void* eq = std::memchr(w, '=', n);
  const size_t key_len = eq ? static_cast<size_t>(static_cast<const char*>(eq) - w) : n;
  const char* value = eq ? w + key_len + 1 : nullptr;
  size_t value_len = eq ? n - key_len - 1 : 0;
  // The kernel's quoting: key="value with spaces".
  if (value_len >= 2 && value[0] == '"' && value[value_len - 1] == '"') {
    ++value;
    value_len -= 2;
  }
  bool bad = false;
  if (apply_root_word(w, key_len, value, value_len, o.root, &bad) && bad) warn.add("bad value, default kept", w, n);
}

void apply_word(const char* w, size_t n, init_options& o, cmdline_warnings& warn) {
  static const char prefix[] = "dynamod.";
  constexpr size_t plen = sizeof prefix - 1;
  if (n <= plen || std::memcmp(w, prefix, plen) != 0) return apply_other_word(w, n, o, warn);
  const char* key = w + plen;
  size_t key_len = n - plen;
  const char* value = nullptr;
  size_t value_len = 0;
  if (const void* eq = std::memchr(key, '=', key_len)) {
    value = static_cast<const char*>(eq) + 1;
    value_len = static_cast<size_t>(w + n - value);
    key_len = static_cast<size_t>(value - 1 - key);
  }
  // Strip one pair of surrounding quotes from a value written as key="value".
  if (value_len >= 2 && value[0] == '"' && value[value_len - 1] == '"') {
    ++value;
    value_len -= 2;
  }
  bool ok = true;
  if (equals(key, key_len, "runtime")) {
    ok = value && copy_absolute_path(value, value_len, o.runtime_path);
  } else if (equals(key, key_len, "shell")) {
    ok = value && copy_absolute_path(value, value_len, o.shell_path);
  } else if (equals(key, key_len, "stop_timeout")) {
    ok = value && parse_duration_ms(value, value_len, o.stop_timeout_ms);
  } else if (equals(key, key_len, "kill_grace")) {
    ok = value && parse_duration_ms(value, value_len, o.kill_grace_ms);
  } else if (equals(key, key_len, "backoff")) {
    ok = value && parse_backoff(value, value_len, o);
  } else if (equals(key, key_len, "liveness")) {
    ok = value && parse_liveness(value, value_len, o);
  } else if (equals(key, key_len, "emergency")) {
    o.emergency = true;
  } else if (equals(key, key_len, "debug")) {
    o.debug = true;
  } else {
    warn.add("unknown option ignored", w, n);
    return;
  }
  if (!ok) warn.add("bad value, default kept", w, n);
}

}  // namespace

void parse_kernel_cmdline(const char* text, size_t length, init_options& options, cmdline_warnings& warnings) {
  size_t i = 0;
  while (i < length) {
    while (i < length && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\0')) ++i;
    if (i >= length) break;
    const size_t start = i;
    bool quoted = false;
    while (i < length) {
      const char c = text[i];
      if (c == '"') quoted = !quoted;
      if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\0')) break;
      ++i;
    }
    if (quoted) warnings.add("unterminated quote", text + start, i - start);
    if (i - start == 2 && text[start] == '-' && text[start + 1] == '-') break;  // rest is init's argv
    apply_word(text + start, i - start, options, warnings);
  }
}

}  // namespace dynamod::init
