// libFuzzer target: unit names and object paths as D-Bus clients send them (any bytes, from any local user):
// escaping must round-trip, parsing must refuse what systemd refuses, and nothing may read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dbus/unit_names.hpp"
#include "dbus/system_settings.hpp"
#include "dbus/unit_properties.hpp"
#include "dbus/unit_state.hpp"

using namespace dynamod::dbus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string escaped = escape_path_label(text);
  for (unsigned char c : escaped) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) __builtin_trap();  // an object path element may hold nothing else
  }
  if (unescape_path_label(escaped) != text) __builtin_trap();
  if (auto back = unit_from_object_path(unit_object_path(text)); !back || *back != text) __builtin_trap();
  (void)unit_from_object_path(text);
  (void)unescape_path_label(text);
  if (auto u = parse_unit_name(text)) {
    if (text.size() > kUnitNameMax || u->prefix.empty()) __builtin_trap();
    for (unsigned char c : text) {
      if (c < 0x21 || c > 0x7e || c == '/') __builtin_trap();
    }
  }
  if (auto d = dynamod_name_of(text)) {
    if (d->name.empty()) __builtin_trap();
  }
  const size_t half = size / 2;
  (void)unit_pattern_matches(text.substr(0, half), text.substr(half));
  (void)summarize_exit(text, text.substr(half));
  (void)parse_dynamod_state(text);
  // A unit's properties from whatever a service reported (exit texts, STATUS=), asked for by any interface name.
  unit_view view;
  view.unit = text.substr(0, half);
  view.state = parse_dynamod_state(text.substr(half));
  view.last_exit = text;
  view.detail = text.substr(half);
  view.status_text = text;
  const auto props = unit_properties(view);
  for (const auto& p : props) {
    if (p.name.empty() || p.interface.empty()) __builtin_trap();
  }
  if (auto some = properties_of(props, text.substr(half), true); some && some->size() > props.size()) __builtin_trap();
  // hostname1 / timedate1 / locale1: what a client sends, and the files we rewrite with it.
  if (hostname_is_valid(text) && (text.size() > 64 || text.find('/') != std::string::npos)) __builtin_trap();
  if (timezone_name_is_valid(text) && (text.find("..") == 0 || text.find("/../") != std::string::npos ||
                                       text.front() == '/')) {
    __builtin_trap();
  }
  (void)timezone_from_link(text);
  (void)locale_assignment_is_valid(text);
  (void)parse_assignments(text);
  const std::string value = text.substr(half);
  if (value.find('\n') == std::string::npos) {
    const std::string updated = update_assignments(text.substr(0, half), {{"FUZZ_KEY", value}});
    if (parse_assignments(updated)["FUZZ_KEY"] != value) __builtin_trap();  // what we write reads back
  }
  return 0;
}
