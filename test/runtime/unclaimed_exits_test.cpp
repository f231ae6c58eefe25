#include "runtime/process/unclaimed_exits.hpp"

#include <gtest/gtest.h>

using namespace dynamod;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
}

TEST(UnclaimedExits, AnOwnerWhoseProcessAlreadyDiedGetsItsExit) {
  unclaimed_exits u{16, 10s};
  u.add(42, 256, 777, t0);
  EXPECT_EQ(u.claim(42, std::nullopt, t0 + 1ms), 256);  // pid 42 is free: the exit was its process's
  EXPECT_EQ(u.size(), 0u);
}

TEST(UnclaimedExits, ALaterProcessReusingThePidNeverExitsAtBirth) {
  unclaimed_exits u{16, 10s};
  u.add(42, 9, 777, t0);  // an orphan nobody owned died
  // A new service process gets pid 42 within the lifetime: it is alive, with another start time.
  EXPECT_EQ(u.claim(42, 901, t0 + 2s), std::nullopt);
  EXPECT_EQ(u.size(), 0u) << "the stale exit is dropped";
  EXPECT_EQ(u.claim(42, std::nullopt, t0 + 3s), std::nullopt) << "and never handed out later";
}

TEST(UnclaimedExits, AnExitWhoseStartTimeIsUnknownNeverMatchesALiveProcess) {
  unclaimed_exits u{16, 10s};
  u.add(42, 0, 0, t0);
  EXPECT_EQ(u.claim(42, 0, t0), std::nullopt);
}

TEST(UnclaimedExits, ExitsExpireAfterTheirLifetime) {
  unclaimed_exits u{16, 10s};
  u.add(42, 0, 5, t0);
  EXPECT_EQ(u.claim(42, std::nullopt, t0 + 10s), std::nullopt);
}

TEST(UnclaimedExits, TheNewestExitOfAPidReplacesAnOlderOne) {
  unclaimed_exits u{16, 10s};
  u.add(42, 1, 5, t0);
  u.add(42, 2, 6, t0 + 1s);
  EXPECT_EQ(u.claim(42, std::nullopt, t0 + 2s), 2);
}

TEST(UnclaimedExits, WhenFullTheOldestGoes) {
  unclaimed_exits u{2, 10s};
  u.add(1, 1, 1, t0);
  u.add(2, 2, 2, t0 + 1s);
  u.add(3, 3, 3, t0 + 2s);
  EXPECT_EQ(u.size(), 2u);
  EXPECT_EQ(u.claim(1, std::nullopt, t0 + 3s), std::nullopt);
  EXPECT_EQ(u.claim(3, std::nullopt, t0 + 3s), 3);
}
