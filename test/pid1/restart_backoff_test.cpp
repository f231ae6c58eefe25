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
