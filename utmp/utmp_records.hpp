// The records an init writes to utmp and wtmp, as sysvinit and systemd-update-utmp do, so `last -x`, `who -b`
// and `runlevel` show boots and shutdowns. Pure: builds the records; main.cpp writes them.
#pragma once

#include <cstdint>
#include <utmpx.h>

namespace dynamod::utmp {

// BOOT_TIME "reboot" at the moment the kernel booted (`boot_time_us`, microseconds since the epoch).
utmpx boot_record(const char* kernel_release, int64_t boot_time_us);
// RUN_LVL "runlevel": from `previous` (0: none) to `level` ('5' for a running system, '0' going down).
utmpx runlevel_record(char level, char previous, const char* kernel_release, int64_t now_us);
// RUN_LVL "shutdown": the record `last -x` shows as "system down".
utmpx shutdown_record(const char* kernel_release, int64_t now_us);

}  // namespace dynamod::utmp
