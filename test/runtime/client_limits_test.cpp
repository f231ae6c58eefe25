#include "runtime/io/client_limits.hpp"

#include <gtest/gtest.h>

using namespace dynamod;

namespace {
client_limits small() {
  client_limits l;
  l.sessions_per_uid = 2;
  l.sessions_total = 3;
  l.admin_reserve = 1;
  l.reply_bytes_per_session = 100;
  l.reply_bytes_total = 250;
  l.reply_bytes_fair_share = 10;
  return l;
}
}  // namespace

TEST(SessionAdmission, LimitsEachUnprivilegedUid) {
  session_admission a{small()};
  EXPECT_TRUE(a.admit(65534, false));
  EXPECT_TRUE(a.admit(65534, false));
  EXPECT_FALSE(a.admit(65534, false));
  EXPECT_EQ(a.of(65534), 2u);
  EXPECT_TRUE(a.admit(1000, false));  // another uid has its own count
}

TEST(SessionAdmission, LimitsAllUnprivilegedTogetherButKeepsRoomForAnAdmin) {
  session_admission a{small()};
  EXPECT_TRUE(a.admit(1, false));
  EXPECT_TRUE(a.admit(2, false));
  EXPECT_TRUE(a.admit(3, false));
  EXPECT_FALSE(a.admit(4, false));
  EXPECT_TRUE(a.admit(0, true));   // the reserve
  EXPECT_FALSE(a.admit(0, true));  // reserve used up: even an admin waits
  EXPECT_EQ(a.total(), 4u);
}

TEST(SessionAdmission, AReleasedSessionMakesRoomAgain) {
  session_admission a{small()};
  ASSERT_TRUE(a.admit(7, false));
  ASSERT_TRUE(a.admit(7, false));
  ASSERT_FALSE(a.admit(7, false));
  a.release(7);
  EXPECT_EQ(a.of(7), 1u);
  EXPECT_TRUE(a.admit(7, false));
  a.release(42);  // unknown: ignored
  EXPECT_EQ(a.total(), 2u);
}

TEST(ReplyBudget, ASessionMayNotHoldMoreThanItsOwnBound) {
  const auto l = small();
  EXPECT_TRUE(may_queue_reply(l, 0, 100, 0));
  EXPECT_FALSE(may_queue_reply(l, 1, 100, 1));
  EXPECT_TRUE(may_queue_reply(l, 0, 101, 0));   // but one reply alone goes out, however big
}

TEST(ReplyBudget, OverTheTotalOnlySessionsBelowTheirFairShareMayQueue) {
  const auto l = small();
  EXPECT_TRUE(may_queue_reply(l, 50, 20, 200));   // under the total
  EXPECT_FALSE(may_queue_reply(l, 50, 20, 240));  // over the total, holding more than its share: dropped
  EXPECT_TRUE(may_queue_reply(l, 0, 20, 240));    // an admin's first reply still goes out
  EXPECT_TRUE(may_queue_reply(l, 10, 20, 240));
}

TEST(LogThrottle, LogsOncePerIntervalAndCountsTheRest) {
  using namespace std::chrono_literals;
  log_throttle t{10s};
  const log_throttle::clock::time_point t0{};
  EXPECT_TRUE(t.occurred(t0 + 100s));
  EXPECT_EQ(t.suppressed(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(t.occurred(t0 + 101s));
  EXPECT_FALSE(t.occurred(t0 + 109s));
  EXPECT_TRUE(t.occurred(t0 + 110s));
  EXPECT_EQ(t.suppressed(), 1001u);
}

TEST(ClientLoad, TreesTakeOneOfAFewSlotsAndGiveItBack) {
  client_load load;
  EXPECT_TRUE(load.try_begin_tree(2));
  EXPECT_TRUE(load.try_begin_tree(2));
  EXPECT_FALSE(load.try_begin_tree(2));
  load.end_tree();
  EXPECT_TRUE(load.try_begin_tree(2));
  EXPECT_EQ(load.trees(), 2u);
}

TEST(ClientLoad, CountsTheBytesAllSessionsHold) {
  client_load load;
  load.add(100);
  load.add(50);
  load.remove(30);
  EXPECT_EQ(load.held(), 120u);
}
