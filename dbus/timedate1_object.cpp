// org.freedesktop.timedate1 (timedatectl): the zone is /etc/localtime, a relative link into /usr/share/zoneinfo
// (and /etc/timezone, Debian's copy, where it exists); the RTC mode is /etc/adjtime's third line. There is no
// systemd-timesyncd to switch, so NTP cannot be turned on (timedatectl: "NTP not supported").
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>

#include <fstream>
#include <set>

#include "dbus/bus_state.hpp"
#include "dbus/settings_files.hpp"
#include "dbus/system_settings.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kPath = "/org/freedesktop/timedate1";
constexpr const char* kInterface = "org.freedesktop.timedate1";

bus_state& state_of(void* ud) { return *static_cast<bus_state*>(ud); }
const std::string& root(void* ud) { return state_of(ud).args.settings.settings_root; }

std::string zone_dir(const std::string& settings) {
  return (settings == "/" ? std::string() : settings) + "/usr/share/zoneinfo/";
}

std::string current_zone(void* ud) {
  if (auto link = read_setting_link(root(ud), "/etc/localtime")) {
    if (auto zone = timezone_from_link(*link)) return *zone;
  }
  return "UTC";  // systemd's answer without /etc/localtime
}

bool local_rtc(void* ud) {
  auto text = read_setting_file(root(ud), "/etc/adjtime");
  return text && text->find("\nLOCAL") != std::string::npos;
}

uint64_t now_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

int get_timezone(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* ud, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", current_zone(ud).c_str());
}

int get_bool(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* ud, sd_bus_error*) {
  const std::string p = property;
  int v = 0;
  if (p == "LocalRTC") {
    v = local_rtc(ud);
  } else if (p == "NTPSynchronized") {
    timex tx{};
    v = ::adjtimex(&tx) >= 0 && !(tx.status & STA_UNSYNC);
  }
  return sd_bus_message_append(reply, "b", v);
}

int get_time(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void*, sd_bus_error*) {
  // RTCTimeUSec 0: no RTC read here (timedatectl shows n/a).
  return sd_bus_message_append(reply, "t", std::string(property) == "TimeUSec" ? now_usec() : uint64_t{0});
}

int method_set_timezone(sd_bus_message* m, void* ud, sd_bus_error* error) {
  const char* zone = nullptr;
  int interactive = 0;
  int r = sd_bus_message_read(m, "sb", &zone, &interactive);
  if (r < 0) return r;
  const std::string settings = root(ud);
  struct stat sb{};
  if (!timezone_name_is_valid(zone) || ::stat((zone_dir(settings) + zone).c_str(), &sb) < 0 || !S_ISREG(sb.st_mode)) {
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid or not installed time zone '%.255s'", zone);
  }
  const std::string z = zone;
  change_setting(state_of(ud), m, z != current_zone(ud), [settings, z]() -> std::string {
    std::string e = write_setting_link(settings, "/etc/localtime", localtime_link_target(z));
    if (!e.empty()) return e;
    // Debian keeps the name in /etc/timezone too; keep the two in step where it is kept.
    if (read_setting_file(settings, "/etc/timezone")) e = write_setting_file(settings, "/etc/timezone", z + "\n");
    if (settings == "/") ::tzset();
    return e;
  }, kPath, kInterface, {"Timezone"});
  return 1;
}

int method_set_local_rtc(sd_bus_message* m, void* ud, sd_bus_error*) {
  int local = 0, fix = 0, interactive = 0;
  int r = sd_bus_message_read(m, "bbb", &local, &fix, &interactive);
  if (r < 0) return r;
  const std::string settings = root(ud);
  change_setting(state_of(ud), m, (local != 0) != local_rtc(ud), [settings, local]() -> std::string {
    return write_setting_file(settings, "/etc/adjtime", std::string("0.0 0 0\n0\n") + (local ? "LOCAL" : "UTC") + "\n");
  }, kPath, kInterface, {"LocalRTC"});
  return 1;
}

int method_set_time(sd_bus_message* m, void* ud, sd_bus_error* error) {
  int64_t usec = 0;
  int relative = 0, interactive = 0;
  int r = sd_bus_message_read(m, "xbb", &usec, &relative, &interactive);
  if (r < 0) return r;
  if (!relative && usec <= 0) return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid absolute time");
  const bool real_system = root(ud) == "/";
  change_setting(state_of(ud), m, !(relative && usec == 0), [usec, relative, real_system]() -> std::string {
    if (!real_system) return "the clock is the kernel's: not set outside the real root";
    const int64_t target = relative ? static_cast<int64_t>(now_usec()) + usec : usec;
    if (target <= 0) return "time out of range";
    timespec ts{static_cast<time_t>(target / 1000000), static_cast<long>((target % 1000000) * 1000)};
    if (::clock_settime(CLOCK_REALTIME, &ts) < 0) return std::string("clock_settime: ") + strerror(errno);
    return {};
  }, kPath, kInterface, {});
  return 1;
}

int method_set_ntp(sd_bus_message* m, void*, sd_bus_error* error) {
  int enable = 0, interactive = 0;
  int r = sd_bus_message_read(m, "bb", &enable, &interactive);
  if (r < 0) return r;
  if (!enable) return sd_bus_reply_method_return(m, "");  // already off
  return sd_bus_error_setf(error, "org.freedesktop.timedate1.NoNTPSupport", "NTP not supported");
}

int method_list_timezones(sd_bus_message* m, void* ud, sd_bus_error*) {
  std::set<std::string> zones{"UTC"};
  std::ifstream tab(zone_dir(root(ud)) + "tzdata.zi");
  for (std::string line; std::getline(tab, line);) {
    // "Z Europe/Berlin ..." defines a zone, "L Europe/Berlin Arctic/Longyearbyen" a link to one.
    std::string name;
    if (line.rfind("Z ", 0) == 0) name = line.substr(2, line.find(' ', 2) - 2);
    if (line.rfind("L ", 0) == 0) {
      const size_t second = line.find(' ', 2);
      if (second != std::string::npos) name = line.substr(second + 1);
    }
    if (!name.empty() && timezone_name_is_valid(name)) zones.insert(name);
  }
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = append_strings(reply, std::vector<std::string>(zones.begin(), zones.end()));
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r;
}

int get_false(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "b", 0);
}

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Timezone", "s", get_timezone, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("LocalRTC", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("CanNTP", "b", get_false, 0, 0),
    SD_BUS_PROPERTY("NTP", "b", get_false, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("NTPSynchronized", "b", get_bool, 0, 0),
    SD_BUS_PROPERTY("TimeUSec", "t", get_time, 0, 0),
    SD_BUS_PROPERTY("RTCTimeUSec", "t", get_time, 0, 0),
    SD_BUS_METHOD("SetTime", "xbb", "", method_set_time, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetTimezone", "sb", "", method_set_timezone, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetLocalRTC", "bbb", "", method_set_local_rtc, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("SetNTP", "bb", "", method_set_ntp, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ListTimezones", "", "as", method_list_timezones, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

}  // namespace

int add_timedate1(bus_state& st) { return add_vtable_object(st, kPath, kInterface, kVtable); }

}  // namespace dynamod::dbus
