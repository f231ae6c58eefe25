#include "pid1/child_process.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

using namespace dynamod::init;

namespace {
uint64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}
}  // namespace

// Issue 14 §6: fork_exec blocked PID 1 on the exec pipe for as long as the exec took (forever on a hung
// filesystem). The wait is now bounded: a pipe nobody writes or closes is "unconfirmed" after the timeout.
TEST(ExecStatus, AnExecThatNeverFinishesIsNotWaitedForForever) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  int err = 0;
  const uint64_t t0 = now_ms();
  EXPECT_EQ(wait_exec_status(p[0], 300, err), exec_status::unconfirmed);
  const uint64_t waited = now_ms() - t0;
  EXPECT_GE(waited, 290u);
  EXPECT_LT(waited, 5000u);  // a bound, not a timing assertion: it returned at all
  close(p[0]);
  close(p[1]);
}

TEST(ExecStatus, EofMeansStartedAndAnErrnoMeansFailed) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  close(p[1]);
  int err = 0;
  EXPECT_EQ(wait_exec_status(p[0], 1000, err), exec_status::started);
  close(p[0]);
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  const int e = ENOEXEC;
  ASSERT_EQ(write(p[1], &e, sizeof e), static_cast<ssize_t>(sizeof e));
  EXPECT_EQ(wait_exec_status(p[0], 1000, err), exec_status::failed);
  EXPECT_EQ(err, ENOEXEC);
  close(p[0]);
  close(p[1]);
}

TEST(ExecStatus, SpawnOfAMissingProgramReportsTheExecError) {
  const spawn_result r = spawn_runtime("/nonexistent/dynamod-runtime", 2);
  EXPECT_EQ(r.pid, -1);
  EXPECT_EQ(r.error, ENOENT);
}
