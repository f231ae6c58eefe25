#include "dbus/system_settings.hpp"

#include <algorithm>

namespace dynamod::dbus {

namespace {

bool is_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool is_key_char(unsigned char c, bool first) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The key of an assignment line ("KEY=..." with optional "export "), or empty.
std::string_view key_of(std::string_view line, std::string_view* rest) {
  line = trim(line);
  if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
  const size_t eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0) return {};
  const std::string_view key = line.substr(0, eq);
  for (size_t i = 0; i < key.size(); ++i) {
    if (!is_key_char(static_cast<unsigned char>(key[i]), i == 0)) return {};
  }
  if (rest) *rest = line.substr(eq + 1);
  return key;
}

std::string unquote(std::string_view v) {
  v = trim(v);
  std::string out;
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') return std::string(v.substr(1, v.size() - 2));
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size() && std::string_view("\"\\$`").find(v[i + 1]) != std::string_view::npos) {
        ++i;
      }
      out.push_back(v[i]);
    }
    return out;
  }
  return std::string(v);
}

std::string quote_if_needed(const std::string& v) {
  const bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return is_alnum(static_cast<unsigned char>(c)) || std::string_view("_.,:/@+-=").find(c) != std::string_view::npos;
  });
  if (plain) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

bool hostname_is_valid(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  size_t label = 0;
  char previous = '.';
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if (is_alnum(u) || c == '-') {
      if (label == 0 && c == '-') return false;
      ++label;
    } else {
      return false;
    }
    previous = c;
  }
  return label > 0 && previous != '-';
}

bool pretty_hostname_is_valid(std::string_view name) {
  if (name.size() > 255) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::map<std::string, std::string> parse_assignments(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (trim(line).empty() || trim(line).front() == '#') continue;
    std::string_view rest;
    const std::string_view key = key_of(line, &rest);
    if (!key.empty()) out[std::string(key)] = unquote(rest);
  }
  return out;
}

std::string update_assignments(std::string_view text,
                               const std::map<std::string, std::optional<std::string>>& changes) {
  std::string out;
  std::map<std::string, bool> done;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const std::string key(key_of(line, nullptr));
    auto change = key.empty() ? changes.end() : changes.find(key);
    if (change == changes.end()) {
      out.append(line);
      out.push_back('\n');
      continue;
    }
    if (done[key]) continue;  // a key set twice in the file: the first place keeps it
    done[key] = true;
    if (change->second) out += key + "=" + quote_if_needed(*change->second) + "\n";
  }
  for (const auto& [key, value] : changes) {
    if (!done[key] && value) out += key + "=" + quote_if_needed(*value) + "\n";
  }
  return out;
}

bool timezone_name_is_valid(std::string_view tz) {
  if (tz.empty() || tz.size() > 255 || tz.front() == '/') return false;
  size_t start = 0;
  while (start <= tz.size()) {
    const size_t slash = tz.find('/', start);
    const std::string_view part = tz.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return false;
    for (char c : part) {
      // As systemd: no '.' at all, so no "." or ".." component can leave /usr/share/zoneinfo.
      if (!is_alnum(static_cast<unsigned char>(c)) && c != '_' && c != '+' && c != '-') return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

std::string localtime_link_target(std::string_view tz) { return "../usr/share/zoneinfo/" + std::string(tz); }

std::optional<std::string> timezone_from_link(std::string_view target) {
  for (std::string_view prefix : {"../usr/share/zoneinfo/", "/usr/share/zoneinfo/", "../share/zoneinfo/",
                                  "usr/share/zoneinfo/"}) {
    if (target.substr(0, prefix.size()) == prefix) {
      std::string_view zone = target.substr(prefix.size());
      for (std::string_view sub : {"posix/", "right/"}) {
        if (zone.substr(0, sub.size()) == sub) zone.remove_prefix(sub.size());
      }
      if (timezone_name_is_valid(zone)) return std::string(zone);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

const std::vector<std::string>& locale_keys() {
  static const std::vector<std::string> keys{"LANG", "LANGUAGE", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE",
                                             "LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS",
                                             "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION"};
  return keys;
}

bool locale_assignment_is_valid(std::string_view assignment, std::string* key, std::string* value) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string k(assignment.substr(0, eq));
  const std::string_view v = assignment.substr(eq + 1);
  const auto& keys = locale_keys();
  if (std::find(keys.begin(), keys.end(), k) == keys.end()) return false;
  if (v.empty() || v.size() > 128) return false;
  for (char c : v) {
    if (!is_alnum(static_cast<unsigned char>(c)) && std::string_view("_.@:-").find(c) == std::string_view::npos) {
      return false;
    }
  }
  if (key) *key = k;
  if (value) *value = std::string(v);
  return true;
}

}  // namespace dynamod::dbus
