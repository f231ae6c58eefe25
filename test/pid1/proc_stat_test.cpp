#include "pid1/proc_stat.hpp"

#include <gtest/gtest.h>

#include <cstring>

using dynamod::init::parse_proc_stat;

TEST(ProcStat, ParsesPidCommAndPpid) {
  const char* s = "1234 (sleep) S 1 1234 1234 0 -1 4194560";
  int pid = 0, ppid = 0;
  char comm[32];
  ASSERT_TRUE(parse_proc_stat(s, std::strlen(s), pid, comm, sizeof comm, ppid));
  EXPECT_EQ(pid, 1234);
  EXPECT_STREQ(comm, "sleep");
  EXPECT_EQ(ppid, 1);
}

TEST(ProcStat, CommMayContainSpacesAndParentheses) {
  const char* s = "77 (evil) S 9) R 2 0 0";
  int pid = 0, ppid = 0;
  char comm[32];
  ASSERT_TRUE(parse_proc_stat(s, std::strlen(s), pid, comm, sizeof comm, ppid));
  EXPECT_STREQ(comm, "evil) S 9");
  EXPECT_EQ(ppid, 2);
}

TEST(ProcStat, RejectsMalformedText) {
  int pid = 0, ppid = 0;
  char comm[8];
  for (const char* s : {"", "12 sleep S 1", "12 (x)", "x1 (a) S 1", "5 (a) S"}) {
    EXPECT_FALSE(parse_proc_stat(s, std::strlen(s), pid, comm, sizeof comm, ppid)) << s;
  }
}
