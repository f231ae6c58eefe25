// dynamod-utmp boot|shutdown: the boot and shutdown records of utmp and wtmp (see utmp_records.hpp). Run by
// the Debian service set's `utmp` oneshot at boot and by its stop command at shutdown.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <paths.h>
#include <sys/utsname.h>
#include <utmpx.h>

#include "utmp/utmp_records.hpp"

using namespace dynamod::utmp;

namespace {

int64_t now_us(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

bool write_utmp(const utmpx& record) {
  ::setutxent();
  const bool ok = ::pututxline(&record) != nullptr;
  const int err = errno;
  ::endutxent();
  if (!ok) std::fprintf(stderr, "dynamod-utmp: cannot write %s: %s\n", _PATH_UTMPX, std::strerror(err));
  return ok;
}

void write_wtmp(const utmpx& record) {
  errno = 0;
  ::updwtmpx(_PATH_WTMP, &record);  // reports nothing: check that the file is there
  if (FILE* f = std::fopen(_PATH_WTMP, "r")) {
    std::fclose(f);
  } else {
    std::fprintf(stderr, "dynamod-utmp: cannot write %s: %s\n", _PATH_WTMP, std::strerror(errno));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || (std::strcmp(argv[1], "boot") != 0 && std::strcmp(argv[1], "shutdown") != 0)) {
    std::fprintf(stderr, "usage: dynamod-utmp boot|shutdown\n");
    return 2;
  }
  utsname uts{};
  ::uname(&uts);
  const int64_t now = now_us(CLOCK_REALTIME);
  if (std::strcmp(argv[1], "boot") == 0) {
    const utmpx boot = boot_record(uts.release, now - now_us(CLOCK_BOOTTIME));
    const utmpx level = runlevel_record('5', 'N', uts.release, now);
    write_wtmp(boot);
    write_wtmp(level);
    const bool ok = write_utmp(boot) && write_utmp(level);
    std::printf("boot recorded in %s and %s\n", _PATH_WTMP, _PATH_UTMPX);
    return ok ? 0 : 1;
  }
  const utmpx down = shutdown_record(uts.release, now);
  write_wtmp(down);
  write_utmp(runlevel_record('0', '5', uts.release, now));
  std::printf("shutdown recorded in %s\n", _PATH_WTMP);
  return 0;
}
