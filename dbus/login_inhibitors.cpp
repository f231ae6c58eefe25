#include "dbus/login_inhibitors.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace dynamod::dbus::login {

namespace {

struct what_name {
  uint32_t bit;
  const char* name;
};
constexpr what_name kWhatNames[] = {
    {inhibit_shutdown, "shutdown"},
    {inhibit_sleep, "sleep"},
    {inhibit_idle, "idle"},
    {inhibit_power_key, "handle-power-key"},
    {inhibit_suspend_key, "handle-suspend-key"},
    {inhibit_hibernate_key, "handle-hibernate-key"},
    {inhibit_lid_switch, "handle-lid-switch"},
    {inhibit_reboot_key, "handle-reboot-key"},
};

}  // namespace

std::optional<uint32_t> parse_inhibit_what(const std::string& text) {
  uint32_t what = 0;
  size_t from = 0;
  while (from <= text.size()) {
    const size_t to = std::min(text.find(':', from), text.size());
    const std::string word = text.substr(from, to - from);
    const auto* found = std::find_if(std::begin(kWhatNames), std::end(kWhatNames),
                                     [&](const what_name& n) { return word == n.name; });
    if (found == std::end(kWhatNames)) return std::nullopt;
    what |= found->bit;
    from = to + 1;
  }
  return what;
}

std::string inhibit_what_text(uint32_t what) {
  std::string out;
  for (const auto& n : kWhatNames) {
    if (!(what & n.bit)) continue;
    if (!out.empty()) out += ':';
    out += n.name;
  }
  return out;
}

std::optional<inhibit_mode> parse_inhibit_mode(const std::string& text) {
  if (text == "block") return inhibit_mode::block;
  if (text == "delay") return inhibit_mode::delay;
  return std::nullopt;
}

const char* to_string(inhibit_mode mode) { return mode == inhibit_mode::block ? "block" : "delay"; }

bool may_inhibit(inhibit_mode mode, uint32_t uid, bool has_local_session) {
  return mode == inhibit_mode::delay || uid == 0 || has_local_session;
}

std::variant<uint32_t, inhibitor_registry::refusal> inhibitor_registry::add(inhibitor i) {
  if (i.what == 0) return refusal{"org.freedesktop.DBus.Error.InvalidArgs", "Invalid what specification."};
  // logind takes delay locks only on shutdown and sleep: the keys and idle have nothing to wait for.
  if (i.mode == inhibit_mode::delay && (i.what & ~(inhibit_shutdown | inhibit_sleep))) {
    return refusal{"org.freedesktop.DBus.Error.InvalidArgs", "Delay inhibitors only supported for shutdown and sleep"};
  }
  if (i.who.size() > kMaxInhibitorText || i.why.size() > kMaxInhibitorText) {
    return refusal{"org.freedesktop.DBus.Error.InvalidArgs", "Who or why is too long."};
  }
  if (inhibitors_.size() >= kMaxInhibitors) {
    return refusal{"org.freedesktop.DBus.Error.LimitsExceeded", "Maximum number of inhibitors reached, refusing further inhibitors."};
  }
  if (i.uid != 0) {
    const auto held = std::count_if(inhibitors_.begin(), inhibitors_.end(),
                                    [&](const auto& entry) { return entry.second.uid == i.uid; });
    if (static_cast<size_t>(held) >= kMaxInhibitorsPerUser) {
      return refusal{"org.freedesktop.DBus.Error.LimitsExceeded", "Maximum number of inhibitors of this user reached."};
    }
  }
  while (inhibitors_.count(next_id_) || next_id_ == 0) ++next_id_;
  i.id = next_id_++;
  const uint32_t id = i.id;
  inhibitors_.emplace(id, std::move(i));
  return id;
}

bool inhibitor_registry::restore(const inhibitor& i) {
  if (i.id == 0 || inhibitors_.count(i.id) || i.what == 0 || inhibitors_.size() >= kMaxInhibitors) return false;
  inhibitors_.emplace(i.id, i);
  next_id_ = std::max(next_id_, i.id + 1);
  return true;
}

bool inhibitor_registry::remove(uint32_t id) { return inhibitors_.erase(id) > 0; }

const inhibitor* inhibitor_registry::find(uint32_t id) const {
  auto it = inhibitors_.find(id);
  return it == inhibitors_.end() ? nullptr : &it->second;
}

uint32_t inhibitor_registry::inhibited(inhibit_mode mode) const {
  uint32_t what = 0;
  for (const auto& [id, i] : inhibitors_) {
    if (i.mode == mode) what |= i.what;
  }
  return what;
}

bool inhibitor_registry::inhibits(uint32_t what, inhibit_mode mode, std::optional<uint32_t> ignore_uid) const {
  return std::any_of(inhibitors_.begin(), inhibitors_.end(), [&](const auto& entry) {
    const inhibitor& i = entry.second;
    return i.mode == mode && (i.what & what) && !(ignore_uid && i.uid == *ignore_uid);
  });
}

shutdown_verdict decide_shutdown(const inhibitor_registry& inhibitors, uint32_t caller_uid, uint64_t flags) {
  shutdown_verdict v;
  if (inhibitors.inhibits(inhibit_shutdown, inhibit_mode::block, caller_uid)) {
    // Root goes past blocks unless it asked to be held to them (systemctl --check-inhibitors=yes); anyone else
    // would need polkit's ignore-inhibit, which dynamod does not have.
    if (caller_uid != 0) {
      v.refused = true;
      v.message = "Operation denied due to active block inhibitor";
      return v;
    }
    if (flags & kCheckInhibitorsFlag) {
      v.refused = true;
      v.message = "Access denied to root due to active block inhibitor";
      return v;
    }
  }
  v.delayed = inhibitors.inhibits(inhibit_shutdown, inhibit_mode::delay);
  return v;
}

namespace {

std::string escape(const std::string& text) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x' && std::isxdigit(static_cast<unsigned char>(text[i + 2])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 3]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string inhibitor_file(const inhibitor& i, const std::string& fifo_path) {
  return "# This is private data. Do not parse.\nWHAT=" + inhibit_what_text(i.what) + "\nMODE=" + to_string(i.mode) +
         "\nUID=" + std::to_string(i.uid) + "\nPID=" + std::to_string(i.pid) + "\nWHO=" + escape(i.who) +
         "\nWHY=" + escape(i.why) + "\nFIFO=" + fifo_path + "\n";
}

std::optional<inhibitor> parse_inhibitor_file(uint32_t id, const std::string& text) {
  std::map<std::string, std::string> keys;
  size_t from = 0;
  while (from < text.size()) {
    const size_t end = std::min(text.find('\n', from), text.size());
    const std::string line = text.substr(from, end - from);
    const size_t eq = line.find('=');
    if (eq != std::string::npos && line[0] != '#') keys[line.substr(0, eq)] = line.substr(eq + 1);
    from = end + 1;
  }
  auto number = [&](const char* key) -> std::optional<uint32_t> {
    const std::string& v = keys[key];
    if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    const unsigned long n = std::stoul(v);
    if (n > 0xffffffffUL) return std::nullopt;
    return static_cast<uint32_t>(n);
  };
  const auto what = parse_inhibit_what(keys["WHAT"]);
  const auto mode = parse_inhibit_mode(keys["MODE"]);
  const auto uid = number("UID");
  const auto pid = number("PID");
  if (id == 0 || !what || !mode || !uid || !pid) return std::nullopt;
  inhibitor i;
  i.id = id;
  i.what = *what;
  i.mode = *mode;
  i.uid = *uid;
  i.pid = *pid;
  i.who = unescape(keys["WHO"]);
  i.why = unescape(keys["WHY"]);
  if (i.who.size() > kMaxInhibitorText || i.why.size() > kMaxInhibitorText) return std::nullopt;
  return i;
}

}  // namespace dynamod::dbus::login
