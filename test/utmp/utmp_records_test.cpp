#include "utmp/utmp_records.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dynamod::utmp;

namespace {
std::string field(const char* f, size_t n) { return std::string(f, strnlen(f, n)); }
}  // namespace

TEST(UtmpRecords, BootIsARebootEntryAtTheKernelsBootTime) {
  const utmpx u = boot_record("6.1.0-57-amd64", 1700000000123456LL);
  EXPECT_EQ(u.ut_type, BOOT_TIME);
  EXPECT_EQ(field(u.ut_user, sizeof u.ut_user), "reboot");
  EXPECT_EQ(field(u.ut_line, sizeof u.ut_line), "~");
  EXPECT_EQ(field(u.ut_id, sizeof u.ut_id), "~~");
  EXPECT_EQ(field(u.ut_host, sizeof u.ut_host), "6.1.0-57-amd64");
  EXPECT_EQ(u.ut_tv.tv_sec, 1700000000);
  EXPECT_EQ(u.ut_tv.tv_usec, 123456);
}

TEST(UtmpRecords, ShutdownIsARunlevelEntryNamedShutdown) {
  const utmpx u = shutdown_record("6.1", 42000000);
  EXPECT_EQ(u.ut_type, RUN_LVL);
  EXPECT_EQ(field(u.ut_user, sizeof u.ut_user), "shutdown");
  EXPECT_EQ(u.ut_tv.tv_sec, 42);
}

TEST(UtmpRecords, RunlevelCarriesTheNewAndPreviousLevelAsSysvinit) {
  const utmpx u = runlevel_record('5', 'N', "6.1", 0);
  EXPECT_EQ(u.ut_pid & 0xff, '5');
  EXPECT_EQ((u.ut_pid >> 8) & 0xff, 'N');
  EXPECT_EQ(field(u.ut_user, sizeof u.ut_user), "runlevel");
}

TEST(UtmpRecords, AnOverlongKernelReleaseIsCutNotOverrun) {
  const std::string long_release(300, 'x');
  const utmpx u = boot_record(long_release.c_str(), 0);
  EXPECT_EQ(field(u.ut_host, sizeof u.ut_host), std::string(sizeof u.ut_host, 'x'));
}
