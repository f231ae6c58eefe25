// org.freedesktop.hostname1 (what hostnamectl reads and sets), kept in Debian's files: /etc/hostname (static
// name), /etc/machine-info (pretty name, icon, chassis, deployment, location), the kernel's hostname (transient).
#include <nlohmann/json.hpp>
#include <sys/utsname.h>
#include <unistd.h>

#include "actors/json_text.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/settings_files.hpp"
#include "dbus/system_settings.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kPath = "/org/freedesktop/hostname1";
constexpr const char* kInterface = "org.freedesktop.hostname1";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
const std::string& root(void* ud) { return state_of(ud).args.settings.settings_root; }

std::string first_line(std::optional<std::string> text) {
  if (!text) return "";
  std::string line = text->substr(0, text->find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string static_hostname(void* ud) {
  const std::string name = first_line(read_setting_file(root(ud), "/etc/hostname"));
  return hostname_is_valid(name) ? name : "";
}

std::string machine_info(void* ud, const std::string& key) {
  auto text = read_setting_file(root(ud), "/etc/machine-info");
  if (!text) return "";
  auto values = parse_assignments(*text);
  auto it = values.find(key);
  return it == values.end() ? "" : it->second;
}

std::string os_release(const std::string& key) {
  auto text = read_setting_file("/", "/etc/os-release");
  if (!text) text = read_setting_file("/", "/usr/lib/os-release");
  if (!text) return "";
  auto values = parse_assignments(*text);
  auto it = values.find(key);
  return it == values.end() ? "" : it->second;
}

std::string dmi(const char* file) { return first_line(read_setting_file("/", std::string("/sys/class/dmi/id/") + file)); }

std::string transient_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) < 0) return "";
  return buf;
}

std::string chassis(void* ud) {
  std::string c = machine_info(ud, "CHASSIS");
  if (!c.empty()) return c;
  // systemd derives it from DMI; a VM without one says "vm".
  const std::string vendor = dmi("sys_vendor");
  return vendor.find("QEMU") != std::string::npos ? "vm" : "";
}

std::string property_value_of(void* ud, const std::string& p) {
  utsname u{};
  ::uname(&u);
  if (p == "Hostname") return transient_hostname();
  if (p == "StaticHostname") return static_hostname(ud);
  if (p == "PrettyHostname") return machine_info(ud, "PRETTY_HOSTNAME");
  if (p == "IconName") {
    std::string icon = machine_info(ud, "ICON_NAME");
    return icon.empty() ? "computer" + (chassis(ud).empty() ? std::string() : "-" + chassis(ud)) : icon;
  }
  if (p == "Chassis") return chassis(ud);
  if (p == "Deployment") return machine_info(ud, "DEPLOYMENT");
  if (p == "Location") return machine_info(ud, "LOCATION");
  if (p == "KernelName") return u.sysname;
  if (p == "KernelRelease") return u.release;
  if (p == "KernelVersion") return u.version;
  if (p == "OperatingSystemPrettyName") return os_release("PRETTY_NAME");
  if (p == "OperatingSystemCPEName") return os_release("CPE_NAME");
  if (p == "HomeURL") return os_release("HOME_URL");
  if (p == "HardwareVendor") return dmi("sys_vendor");
  if (p == "HardwareModel") return dmi("product_name");
  if (p == "FirmwareVersion") return dmi("bios_version");
  if (p == "HostnameSource") return static_hostname(ud).empty() ? "transient" : "static";
  return "";
}

int get_property(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", property_value_of(ud, property).c_str());
}

// (s value, b interactive)
int read_value(sd_bus_message* m, std::string& value) {
  const char* v = nullptr;
  int interactive = 0;
  const int r = sd_bus_message_read(m, "sb", &v, &interactive);
  if (r >= 0) value = v;
  return r;
}

int method_set_hostname(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::string name;
  int r = read_value(m, name);
  if (r < 0) return r;
  if (name.empty()) name = static_hostname(ud).empty() ? "localhost" : static_hostname(ud);
  if (!hostname_is_valid(name)) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid hostname '%.255s'", name.c_str());
  const bool real_system = root(ud) == "/";
  change_setting(state_of(ud), m, name != transient_hostname(), [name, real_system]() -> std::string {
    if (!real_system) return "the transient hostname is the kernel's: not set outside the real root";
    if (::sethostname(name.c_str(), name.size()) < 0) return std::string("sethostname: ") + strerror(errno);
    return {};
  }, kPath, kInterface, {"Hostname"});
  return 1;
}

int method_set_static_hostname(sd_bus_message* m, void* ud, sd_bus_error* error) {
  std::string name;
  int r = read_value(m, name);
  if (r < 0) return r;
  if (!name.empty() && !hostname_is_valid(name)) {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid static hostname '%.255s'", name.c_str());
  }
  const std::string settings = root(ud);
  const bool real_system = settings == "/";
  change_setting(state_of(ud), m, name != static_hostname(ud), [name, settings, real_system]() -> std::string {
    std::string e = name.empty() ? remove_setting_file(settings, "/etc/hostname")
                                 : write_setting_file(settings, "/etc/hostname", name + "\n");
    if (!e.empty()) return e;
    // The static name is the one the system goes by from now on, as with systemd-hostnamed.
    if (real_system && !name.empty() && ::sethostname(name.c_str(), name.size()) < 0) {
      return std::string("sethostname: ") + strerror(errno);
    }
    return {};
  }, kPath, kInterface, {"StaticHostname", "Hostname", "HostnameSource"});
  return 1;
}

// PRETTY_HOSTNAME, ICON_NAME, CHASSIS, DEPLOYMENT, LOCATION in /etc/machine-info.
int set_machine_info(sd_bus_message* m, void* ud, sd_bus_error* error, const char* key, const char* property) {
  std::string value;
  int r = read_value(m, value);
  if (r < 0) return r;
  if (std::string(key) == "PRETTY_HOSTNAME" ? !pretty_hostname_is_valid(value)
                                              : value.size() > 255 || value.find_first_of("\n\r\t\"'\\$`") != std::string::npos) {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s", property);
  }
  const std::string settings = root(ud);
  const std::string k = key;
  change_setting(state_of(ud), m, value != machine_info(ud, k), [settings, k, value]() -> std::string {
    const std::string old = read_setting_file(settings, "/etc/machine-info").value_or("");
    std::map<std::string, std::optional<std::string>> change;
    change[k] = value.empty() ? std::nullopt : std::optional<std::string>(value);
    return write_setting_file(settings, "/etc/machine-info", update_assignments(old, change));
  }, kPath, kInterface, {property});
  return 1;
}

int method_set_pretty(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_machine_info(m, ud, e, "PRETTY_HOSTNAME", "PrettyHostname"); }
int method_set_icon(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_machine_info(m, ud, e, "ICON_NAME", "IconName"); }
int method_set_chassis(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_machine_info(m, ud, e, "CHASSIS", "Chassis"); }
int method_set_deployment(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_machine_info(m, ud, e, "DEPLOYMENT", "Deployment"); }
int method_set_location(sd_bus_message* m, void* ud, sd_bus_error* e) { return set_machine_info(m, ud, e, "LOCATION", "Location"); }

int method_describe(sd_bus_message* m, void* ud, sd_bus_error*) {
  nlohmann::json j;
  for (const char* p : {"Hostname", "StaticHostname", "PrettyHostname", "IconName", "Chassis", "Deployment", "Location",
                        "KernelName", "KernelRelease", "KernelVersion", "OperatingSystemPrettyName",
                        "OperatingSystemCPEName", "HomeURL", "HardwareVendor", "HardwareModel", "FirmwareVersion",
                        "HostnameSource"}) {
    const std::string v = property_value_of(ud, p);
    j[p] = v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v);
  }
  return sd_bus_reply_method_return(m, "s", json_text(j).c_str());
}

int method_get_product_uuid(sd_bus_message* m, void*, sd_bus_error* error) {
  return sd_bus_error_setf(error, "org.freedesktop.hostname1.NoProductUUID", "Failed to read product UUID");
  (void)m;
}

int method_get_hardware_serial(sd_bus_message* m, void*, sd_bus_error* error) {
  (void)m;
  return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Failed to read hardware serial");
}

#define HOSTNAME_PROPERTY(name) SD_BUS_PROPERTY(name, "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    HOSTNAME_PROPERTY("Hostname"),
    HOSTNAME_PROPERTY("StaticHostname"),
    HOSTNAME_PROPERTY("PrettyHostname"),
    HOSTNAME_PROPERTY("IconName"),
    HOSTNAME_PROPERTY("Chassis"),
    HOSTNAME_PROPERTY("Deployment"),
    HOSTNAME_PROPERTY("Location"),
    HOSTNAME_PROPERTY("HostnameSource"),
    SD_BUS_PROPERTY("KernelName", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KernelRelease", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("KernelVersion", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("OperatingSystemPrettyName", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("OperatingSystemCPEName", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HomeURL", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HardwareVendor", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("HardwareModel", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("FirmwareVersion", "s", get_property, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("SetHostname", "sb", "", method_set_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetStaticHostname", "sb", "", method_set_static_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetPrettyHostname", "sb", "", method_set_pretty, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetIconName", "sb", "", method_set_icon, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetChassis", "sb", "", method_set_chassis, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetDeployment", "sb", "", method_set_deployment, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetLocation", "sb", "", method_set_location, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetProductUUID", "b", "ay", method_get_product_uuid, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("GetHardwareSerial", "", "s", method_get_hardware_serial, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Describe", "", "s", method_describe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

int add_hostname1(bus_state& st) { return add_vtable_object(st, kPath, kInterface, kVtable); }

}  // namespace dynamod::dbus
