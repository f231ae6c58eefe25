// How much the console shows (systemd's show_status): the kernel command line decides.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "runtime/console_status.hpp"

using namespace dynamod;

TEST(ShowStatus, OnlyTheExplicitSettingHidesLines) {
  EXPECT_EQ(status_level_from_cmdline("console=ttyS0 panic=-1"), status_level::all);
  EXPECT_EQ(status_level_from_cmdline("ro quiet splash"), status_level::all) << "quiet is the kernel's";
  EXPECT_EQ(status_level_from_cmdline("quiet dynamod.show_status=error"), status_level::errors);
  EXPECT_EQ(status_level_from_cmdline("dynamod.show_status=no dynamod.show_status=1"), status_level::all);
  EXPECT_EQ(status_level_from_cmdline("dynamod.show_status=no"), status_level::none);
  EXPECT_EQ(status_level_from_cmdline("dynamod.show_status=auto\n"), status_level::errors);
  EXPECT_EQ(status_level_from_cmdline("dynamod.show_status=maybe"), status_level::all) << "unknown: ignored";
  EXPECT_EQ(status_level_from_cmdline("xdynamod.show_status=no quieter"), status_level::all);
}

TEST(ShowStatus, ErrorsOnlyDropsTheStartedLinesButKeepsFailures) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    console_writer out;  // written out before it is destroyed
    console_status c{out, p[1], status_level::errors};
    c.ok("Started web.");
    c.failed("Failed to start db.");
    c.waiting("web is slow");
    console_status none{out, p[1], status_level::none};
    none.failed("Failed to start hidden.");
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  EXPECT_EQ(out.find("Started web"), std::string::npos);
  EXPECT_NE(out.find("Failed to start db"), std::string::npos);
  EXPECT_NE(out.find("web is slow"), std::string::npos);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
}
