#include "utmp/utmp_records.hpp"

#include <cstring>

namespace dynamod::utmp {

namespace {

template <size_t N>
void set(char (&field)[N], const char* text) {
  std::strncpy(field, text, N);  // utmp fields need no terminating NUL when full
}

utmpx base(short type, const char* user, const char* kernel_release, int64_t time_us) {
  utmpx u{};
  u.ut_type = type;
  set(u.ut_user, user);
  set(u.ut_line, "~");
  set(u.ut_id, "~~");
  set(u.ut_host, kernel_release);
  u.ut_tv.tv_sec = static_cast<int32_t>(time_us / 1000000);
  u.ut_tv.tv_usec = static_cast<int32_t>(time_us % 1000000);
  return u;
}

}  // namespace

utmpx boot_record(const char* kernel_release, int64_t boot_time_us) {
  return base(BOOT_TIME, "reboot", kernel_release, boot_time_us);
}

utmpx runlevel_record(char level, char previous, const char* kernel_release, int64_t now_us) {
  utmpx u = base(RUN_LVL, "runlevel", kernel_release, now_us);
  // As sysvinit: the new level in the low byte, the previous one in the next.
  u.ut_pid = static_cast<unsigned char>(level) | (static_cast<unsigned char>(previous) << 8);
  return u;
}

utmpx shutdown_record(const char* kernel_release, int64_t now_us) {
  return base(RUN_LVL, "shutdown", kernel_release, now_us);
}

}  // namespace dynamod::utmp
