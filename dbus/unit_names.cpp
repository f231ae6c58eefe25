#include "dbus/unit_names.hpp"

#include <fnmatch.h>

#include <array>

namespace dynamod::dbus {

namespace {

bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<std::pair<std::string_view, unit_type>, 11> kSuffixes{{
    {".service", unit_type::service},
    {".target", unit_type::target},
    {".socket", unit_type::socket},
    {".mount", unit_type::mount},
    {".swap", unit_type::swap},
    {".timer", unit_type::timer},
    {".path", unit_type::path},
    {".slice", unit_type::slice},
    {".scope", unit_type::scope},
    {".device", unit_type::device},
    {".automount", unit_type::automount},
}};

bool valid_name_char(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
}

}  // namespace

std::string escape_path_label(std::string_view label) {
  if (label.empty()) return "_";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(label.size() * 3);
  for (size_t i = 0; i < label.size(); ++i) {
    const auto c = static_cast<unsigned char>(label[i]);
    if (is_alpha(c) || (i > 0 && is_digit(c))) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('_');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::string> unescape_path_label(std::string_view label) {
  if (label == "_") return std::string{};
  std::string out;
  out.reserve(label.size());
  for (size_t i = 0; i < label.size(); ++i) {
    const auto c = static_cast<unsigned char>(label[i]);
    if (c == '_') {
      if (i + 2 >= label.size()) return std::nullopt;  // `_` needs two hex digits after it
      const int hi = hex_value(label[i + 1]);
      const int lo = hex_value(label[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (is_alpha(c) || is_digit(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string unit_object_path(std::string_view unit) {
  return std::string(kUnitPathPrefix) + escape_path_label(unit);
}

std::optional<std::string> unit_from_object_path(std::string_view path) {
  if (path.size() <= kUnitPathPrefix.size() || path.substr(0, kUnitPathPrefix.size()) != kUnitPathPrefix) {
    return std::nullopt;
  }
  const std::string_view label = path.substr(kUnitPathPrefix.size());
  if (label.find('/') != std::string_view::npos) return std::nullopt;
  return unescape_path_label(label);
}

std::optional<unit_name> parse_unit_name(std::string_view name) {
  if (name.empty() || name.size() > kUnitNameMax) return std::nullopt;
  unit_name out;
  bool typed = false;
  std::string_view stem;
  for (const auto& [suffix, type] : kSuffixes) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      out.type = type;
      stem = name.substr(0, name.size() - suffix.size());
      typed = true;
      break;
    }
  }
  if (!typed) return std::nullopt;
  size_t at = std::string_view::npos;
  for (size_t i = 0; i < stem.size(); ++i) {
    const auto c = static_cast<unsigned char>(stem[i]);
    if (c == '@') {
      if (at != std::string_view::npos) return std::nullopt;  // at most one
      at = i;
    } else if (!valid_name_char(c)) {
      return std::nullopt;
    }
  }
  if (at == 0) return std::nullopt;  // "@x.service": no prefix
  if (at == std::string_view::npos) {
    out.prefix = std::string(stem);
  } else {
    out.prefix = std::string(stem.substr(0, at));
    out.instance = std::string(stem.substr(at + 1));
    out.is_template = out.instance.empty();
  }
  return out;
}

std::optional<dynamod_name> dynamod_name_of(std::string_view unit) {
  auto parsed = parse_unit_name(unit);
  if (!parsed || parsed->is_template) return std::nullopt;
  if (parsed->type != unit_type::service && parsed->type != unit_type::target) return std::nullopt;
  std::string name = parsed->prefix;
  if (!parsed->instance.empty()) name += "@" + parsed->instance;
  return dynamod_name{std::move(name), parsed->type == unit_type::target};
}

std::string unit_of_service(std::string_view service) { return std::string(service) + ".service"; }
std::string unit_of_supervisor(std::string_view supervisor) { return std::string(supervisor) + ".target"; }

bool unit_pattern_matches(std::string_view pattern, std::string_view unit) {
  // fnmatch needs NUL-terminated strings; a NUL inside either cannot match a unit name anyway.
  if (pattern.find('\0') != std::string_view::npos || unit.find('\0') != std::string_view::npos) return false;
  return ::fnmatch(std::string(pattern).c_str(), std::string(unit).c_str(), 0) == 0;
}

}  // namespace dynamod::dbus
