// PID 1's logging: lines built in a fixed buffer and written to /dev/kmsg as "dynamod-init: ..."
// (or to stderr when kmsg is unavailable, e.g. in container mode). No allocation, no stdio.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynamod::init {

// Renders an errno value as text, e.g. `line << errno_text{ENOENT}` -> "No such file or directory".
struct errno_text {
  int value;
};

// Renders milliseconds as "250ms", "1.6s" or "30s".
struct duration_text {
  unsigned long long ms;
};

// Builds one log line; appends that do not fit are truncated.
class log_line {
 public:
  log_line& operator<<(const char* s);
  log_line& operator<<(char c);
  log_line& operator<<(long long v);
  log_line& operator<<(unsigned long long v);
  log_line& operator<<(int v) { return *this << static_cast<long long>(v); }
  log_line& operator<<(long v) { return *this << static_cast<long long>(v); }
  log_line& operator<<(unsigned v) { return *this << static_cast<unsigned long long>(v); }
  log_line& operator<<(unsigned long v) { return *this << static_cast<unsigned long long>(v); }
  log_line& append(const char* s, size_t n);
  log_line& operator<<(duration_text d);
  log_line& operator<<(errno_text e);

  const char* data() const { return buf_; }
  size_t size() const { return n_; }

 private:
  char buf_[480];
  size_t n_ = 0;
};

enum class log_level : uint8_t { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

// Chooses the sink. kmsg_fd < 0 means "write to stderr".
void log_set_sink(int kmsg_fd, bool debug_enabled);
void log_write(log_level level, const log_line& line);

inline void log_error(const log_line& l) { log_write(log_level::error, l); }
inline void log_warning(const log_line& l) { log_write(log_level::warning, l); }
inline void log_notice(const log_line& l) { log_write(log_level::notice, l); }
inline void log_debug(const log_line& l) { log_write(log_level::debug, l); }

}  // namespace dynamod::init
