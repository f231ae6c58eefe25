#include "runtime/config/value_parsers.hpp"

#include <cctype>
#include <cmath>
#include <csignal>
#include <cstring>

namespace dynamod {

namespace {

// Splits "12.5ms" into 12.5 and "ms"; digits with at most one dot, no sign, no exponent.
bool split_number(const std::string& text, double& number, std::string& unit) {
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits || i > 18) return false;
  number = std::strtod(text.substr(0, i).c_str(), nullptr);
  unit = text.substr(i);
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> duration_from_seconds(double seconds) {
  if (!(seconds >= 0) || seconds > 1e9) return std::nullopt;
  return std::chrono::milliseconds{static_cast<int64_t>(std::llround(seconds * 1000.0))};
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  double n = 0;
  std::string unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double scale_ms;
  if (unit.empty() || unit == "s") {
    scale_ms = 1000;
  } else if (unit == "ms") {
    scale_ms = 1;
  } else if (unit == "m" || unit == "min") {
    scale_ms = 60000;
  } else if (unit == "h") {
    scale_ms = 3600000;
  } else {
    return std::nullopt;
  }
  return duration_from_seconds(n * scale_ms / 1000.0);
}

std::string format_duration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  std::string s = std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100);
  if (ms % 100 != 0) s += std::to_string(ms % 100 / 10);
  if (ms % 10 != 0) s += std::to_string(ms % 10);
  return s + "s";
}

std::optional<size_value> parse_size(const std::string& text) {
  if (text == "max") return size_value{true, 0};
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  int shift = 0;
  if (unit.empty()) {
    shift = 0;
  } else if (unit == "K" || unit == "k") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (unit == "T") {
    shift = 40;
  } else {
    return std::nullopt;
  }
  if (shift > 0 && n > (UINT64_MAX >> shift)) return std::nullopt;
  return size_value{false, n << shift};
}

std::optional<int> signal_from_number(int64_t number) {
  if (number < 1 || number > 64) return std::nullopt;
  return static_cast<int>(number);
}

std::optional<int> parse_signal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    if (text.size() > 3) return std::nullopt;
    return signal_from_number(std::stoll(text));
  }
  std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  for (int n = 1; n < NSIG; ++n) {
    const char* abbrev = sigabbrev_np(n);
    if (abbrev != nullptr && name == abbrev) return n;
  }
  return std::nullopt;
}

std::optional<unsigned> parse_umask(const std::string& text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned v = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<unsigned>(c - '0');
  }
  if (v > 0777) return std::nullopt;
  return v;
}

}  // namespace dynamod
