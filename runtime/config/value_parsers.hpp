// The value formats of the configuration (see docs/config.md): durations, sizes, signals, modes.
// Pure: each returns the value or nothing, and the caller names the key in its error.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace dynamod {

// "250ms", "30s", "5m", "1h", or a bare non-negative number of seconds (integer or decimal).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);
std::optional<std::chrono::milliseconds> duration_from_seconds(double seconds);
std::string format_duration(std::chrono::milliseconds d);  // "250ms", "1.5s", "30s", "5m"

// "1024K", "512M", "2G", "1T" (binary units), or a bare number of bytes. "max" is std::nullopt
// with `is_max` set; anything else fails.
struct size_value {
  bool is_max = false;
  uint64_t bytes = 0;
};
std::optional<size_value> parse_size(const std::string& text);

// "SIGTERM", "TERM", or a number 1..64. Returns the signal number.
std::optional<int> parse_signal(const std::string& text);
std::optional<int> signal_from_number(int64_t number);

// "022", "0027": an octal mode up to 0777.
std::optional<unsigned> parse_umask(const std::string& text);

inline bool is_absolute_path(const std::string& p) { return !p.empty() && p[0] == '/'; }

}  // namespace dynamod
