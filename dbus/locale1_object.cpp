// org.freedesktop.locale1 (localectl), kept as Debian keeps it: /etc/default/locale (LANG=...), the console
// keymap in /etc/vconsole.conf, the X11 layout in /etc/default/keyboard (XKBLAYOUT, XKBMODEL, ...).
#include <algorithm>

#include "dbus/bus_state.hpp"
#include "dbus/settings_files.hpp"
#include "dbus/system_settings.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kPath = "/org/freedesktop/locale1";
constexpr const char* kInterface = "org.freedesktop.locale1";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
const std::string& root(void* ud) { return state_of(ud).args.settings.settings_root; }

std::map<std::string, std::string> assignments(void* ud, const char* file) {
  auto text = read_setting_file(root(ud), file);
  return text ? parse_assignments(*text) : std::map<std::string, std::string>{};
}

// The Locale property: KEY=value for each key set, in locale1's order; LANG=C.UTF-8 when nothing is.
std::vector<std::string> current_locale(void* ud) {
  auto set = assignments(ud, "/etc/default/locale");
  std::vector<std::string> out;
  for (const auto& key : locale_keys()) {
    auto it = set.find(key);
    if (it != set.end() && !it->second.empty()) out.push_back(key + "=" + it->second);
  }
  if (out.empty()) out.push_back("LANG=C.UTF-8");
  return out;
}

std::string value_in(void* ud, const char* file, const char* key) {
  auto set = assignments(ud, file);
  auto it = set.find(key);
  return it == set.end() ? "" : it->second;
}

int get_locale(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  return append_strings(reply, current_locale(ud));
}

int get_keyboard(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const std::string p = property;
  std::string v;
  if (p == "VConsoleKeymap") v = value_in(ud, "/etc/vconsole.conf", "KEYMAP");
  if (p == "VConsoleKeymapToggle") v = value_in(ud, "/etc/vconsole.conf", "KEYMAP_TOGGLE");
  if (p == "X11Layout") v = value_in(ud, "/etc/default/keyboard", "XKBLAYOUT");
  if (p == "X11Model") v = value_in(ud, "/etc/default/keyboard", "XKBMODEL");
  if (p == "X11Variant") v = value_in(ud, "/etc/default/keyboard", "XKBVARIANT");
  if (p == "X11Options") v = value_in(ud, "/etc/default/keyboard", "XKBOPTIONS");
  return sd_bus_message_append(reply, "s", v.c_str());
}

int method_set_locale(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::vector<std::string> wanted;
  int r = read_string_array(m, wanted, error, locale_keys().size());
  if (r < 0) return r;
  int interactive = 0;
  r = sd_bus_message_read(m, "b", &interactive);
  if (r < 0) return r;
  std::map<std::string, std::optional<std::string>> change;
  for (const auto& key : locale_keys()) change[key] = std::nullopt;  // what is not given is unset
  for (const auto& a : wanted) {
    std::string key, value;
    if (!locale_assignment_is_valid(a, &key, &value)) {
      return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Locale data is invalid: %.255s", a.c_str());
    }
    change[key] = value;
  }
  std::vector<std::string> now = current_locale(ud), next = wanted;
  std::sort(now.begin(), now.end());
  std::sort(next.begin(), next.end());
  if (next.empty()) next.push_back("LANG=C.UTF-8");
  const std::string settings = root(ud);
  change_setting(state_of(ud), m, now != next, [settings, change]() -> std::string {
    const std::string old = read_setting_file(settings, "/etc/default/locale").value_or("");
    return write_setting_file(settings, "/etc/default/locale", update_assignments(old, change));
  }, kPath, kInterface, {"Locale"});
  return 1;
}

bool keyboard_value_is_valid(const std::string& v) {
  return v.size() <= 255 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ',' ||
                  c == ':' || c == '+' || c == '(' || c == ')';
         });
}

int method_set_vconsole_keyboard(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* keymap = nullptr;
  const char* toggle = nullptr;
  int convert = 0, interactive = 0;
  int r = sd_bus_message_read(m, "ssbb", &keymap, &toggle, &convert, &interactive);
  if (r < 0) return r;
  const std::string k = keymap, t = toggle;
  if (!keyboard_value_is_valid(k) || !keyboard_value_is_valid(t)) {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Received invalid keymap data");
  }
  const std::string settings = root(ud);
  const bool differs = k != value_in(ud, "/etc/vconsole.conf", "KEYMAP") || t != value_in(ud, "/etc/vconsole.conf", "KEYMAP_TOGGLE");
  change_setting(state_of(ud), m, differs, [settings, k, t]() -> std::string {
    const std::string old = read_setting_file(settings, "/etc/vconsole.conf").value_or("");
    std::map<std::string, std::optional<std::string>> change{
        {"KEYMAP", k.empty() ? std::nullopt : std::optional<std::string>(k)},
        {"KEYMAP_TOGGLE", t.empty() ? std::nullopt : std::optional<std::string>(t)}};
    return write_setting_file(settings, "/etc/vconsole.conf", update_assignments(old, change));
  }, kPath, kInterface, {"VConsoleKeymap", "VConsoleKeymapToggle"});
  return 1;
}

int method_set_x11_keyboard(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char *layout = nullptr, *model = nullptr, *variant = nullptr, *options = nullptr;
  int convert = 0, interactive = 0;
  int r = sd_bus_message_read(m, "ssssbb", &layout, &model, &variant, &options, &convert, &interactive);
  if (r < 0) return r;
  const std::vector<std::pair<std::string, std::string>> values{
      {"XKBLAYOUT", layout}, {"XKBMODEL", model}, {"XKBVARIANT", variant}, {"XKBOPTIONS", options}};
  bool differs = false;
  for (const auto& [key, value] : values) {
    if (!keyboard_value_is_valid(value)) {
      return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Received invalid keyboard data");
    }
    differs |= value != value_in(ud, "/etc/default/keyboard", key.c_str());
  }
  const std::string settings = root(ud);
  change_setting(state_of(ud), m, differs, [settings, values]() -> std::string {
    const std::string old = read_setting_file(settings, "/etc/default/keyboard").value_or("");
    std::map<std::string, std::optional<std::string>> change;
    for (const auto& [key, value] : values) change[key] = value;  // Debian's file keeps empty values
    return write_setting_file(settings, "/etc/default/keyboard", update_assignments(old, change));
  }, kPath, kInterface, {"X11Layout", "X11Model", "X11Variant", "X11Options"});
  return 1;
}

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Locale", "as", get_locale, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("VConsoleKeymap", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("VConsoleKeymapToggle", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("X11Layout", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("X11Model", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("X11Variant", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("X11Options", "s", get_keyboard, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("SetLocale", "asb", "", method_set_locale, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetVConsoleKeyboard", "ssbb", "", method_set_vconsole_keyboard, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetX11Keyboard", "ssssbb", "", method_set_x11_keyboard, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

int add_locale1(bus_state& st) { return add_vtable_object(st, kPath, kInterface, kVtable); }

}  // namespace dynamod::dbus
