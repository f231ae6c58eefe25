#include "pid1/restart_backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

using dynamod::init::restart_backoff;

TEST(RestartBackoff, DoublesFromInitialUpToTheCap) {
  restart_backoff b{100, 30000, 60000};
  std::vector<uint32_t> delays;
  for (int i = 0; i < 12; ++i) delays.push_back(b.on_exit(5));
  EXPECT_EQ(delays, (std::vector<uint32_t>{100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000,
                                           30000}));
  EXPECT_EQ(b.consecutive_failures(), 12u);
}

TEST(RestartBackoff, ResetsAfterTheRuntimeStayedUpLongEnough) {
  restart_backoff b{100, 30000, 60000};
  b.on_exit(0);
  b.on_exit(0);
  EXPECT_EQ(b.on_exit(59999), 400u);  // just short of a minute: still escalating
  EXPECT_EQ(b.on_exit(60000), 100u);  // a full minute up: forgiven
  EXPECT_EQ(b.consecutive_failures(), 1u);
  EXPECT_EQ(b.on_exit(10), 200u);
}

TEST(RestartBackoff, CapIsReachedWithoutOverflow) {
  restart_backoff b{3000000000u, 4000000000u, 1000};
  EXPECT_EQ(b.on_exit(0), 3000000000u);
  EXPECT_EQ(b.on_exit(0), 4000000000u);
  EXPECT_EQ(b.on_exit(0), 4000000000u);
}

using dynamod::init::crash_loop_detector;
using dynamod::init::error_backoff;

// Issue 14 §6: a crash-looping runtime opens the emergency shell (the original: 5 crashes in 30 s).
TEST(CrashLoop, FiveExitsWithinThirtySecondsAreALoop) {
  crash_loop_detector d{5, 30000};
  EXPECT_FALSE(d.on_exit(1000));
  EXPECT_FALSE(d.on_exit(2000));
  EXPECT_FALSE(d.on_exit(4000));
  EXPECT_FALSE(d.on_exit(8000));
  EXPECT_TRUE(d.on_exit(16000));
  // Reported once; the next loop needs five more.
  EXPECT_FALSE(d.on_exit(17000));
  EXPECT_FALSE(d.on_exit(18000));
  EXPECT_FALSE(d.on_exit(19000));
  EXPECT_FALSE(d.on_exit(20000));
  EXPECT_TRUE(d.on_exit(21000));
}

TEST(CrashLoop, SpreadOutExitsAreNotALoop) {
  crash_loop_detector d{5, 30000};
  for (uint64_t t = 0; t < 20; ++t) EXPECT_FALSE(d.on_exit(t * 8000)) << t;  // 5 exits span 32 s
}

TEST(CrashLoop, ALoopAfterQuietTimeIsStillCaught) {
  crash_loop_detector d{5, 30000};
  EXPECT_FALSE(d.on_exit(0));
  EXPECT_FALSE(d.on_exit(100000));
  EXPECT_FALSE(d.on_exit(100100));
  EXPECT_FALSE(d.on_exit(100200));
  EXPECT_FALSE(d.on_exit(100300));
  EXPECT_TRUE(d.on_exit(100400));
}

// Issue 14 §6: a persistent epoll_wait error must not spin: growing delays, logged once per run.
TEST(ErrorBackoff, DelaysGrowToOneSecondAndOnlyTheFirstFailureIsLogged) {
  error_backoff b;
  std::vector<uint32_t> delays;
  int logged = 0;
  for (int i = 0; i < 12; ++i) {
    bool first = false;
    delays.push_back(b.on_error(first));
    logged += first;
  }
  EXPECT_EQ(logged, 1);
  EXPECT_EQ(delays, (std::vector<uint32_t>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000, 1000}));
  EXPECT_EQ(b.on_success(), 12u);
  EXPECT_EQ(b.on_success(), 0u);
  bool first = false;
  EXPECT_EQ(b.on_error(first), 10u);
  EXPECT_TRUE(first);
}
