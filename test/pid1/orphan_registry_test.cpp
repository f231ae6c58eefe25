#include "pid1/orphan_registry.hpp"

#include <gtest/gtest.h>

#include <memory>

using dynamod::init::orphan_registry;

namespace {
std::unique_ptr<orphan_registry> make() { return std::make_unique<orphan_registry>(); }  // too big for the stack
}  // namespace

TEST(OrphanRegistry, QueuesExitsOfTrackedPidsOnly) {
  auto r = make();
  ASSERT_TRUE(r->track(100));
  EXPECT_FALSE(r->on_reaped(200, 0));  // not a service process
  EXPECT_TRUE(r->on_reaped(100, 9));
  ASSERT_TRUE(r->has_pending());
  EXPECT_EQ(r->front().pid, 100);
  EXPECT_EQ(r->front().wait_status, 9);
  r->pop();
  EXPECT_FALSE(r->has_pending());
  EXPECT_FALSE(r->is_tracked(100));  // reaped: tracking ends
}

TEST(OrphanRegistry, UntrackedPidIsNotQueued) {
  auto r = make();
  r->track(5);
  r->untrack(5);
  EXPECT_FALSE(r->on_reaped(5, 0));
  EXPECT_EQ(r->tracked_count(), 0u);
}

TEST(OrphanRegistry, QueueKeepsOrderAndDropsOldestWhenFull) {
  auto r = make();
  const size_t n = orphan_registry::kQueueCapacity + 3;
  for (size_t i = 1; i <= n; ++i) {
    ASSERT_TRUE(r->track(static_cast<pid_t>(i)));
    ASSERT_TRUE(r->on_reaped(static_cast<pid_t>(i), 0));
  }
  EXPECT_EQ(r->pending_count(), orphan_registry::kQueueCapacity);
  EXPECT_EQ(r->dropped(), 3u);
  EXPECT_EQ(r->front().pid, 4);
}

TEST(OrphanRegistry, TrackingIsIdempotentAndRejectsInvalidPids) {
  auto r = make();
  EXPECT_TRUE(r->track(7));
  EXPECT_TRUE(r->track(7));
  EXPECT_EQ(r->tracked_count(), 1u);
  EXPECT_FALSE(r->track(0));
  EXPECT_FALSE(r->track(-3));
}

TEST(OrphanRegistry, FillsToThreeQuartersThenRefuses) {
  auto r = make();
  size_t accepted = 0;
  for (pid_t p = 1; p <= static_cast<pid_t>(orphan_registry::kTrackCapacity); ++p) accepted += r->track(p);
  EXPECT_EQ(accepted, orphan_registry::kTrackCapacity / 4 * 3);
  for (pid_t p = 1; p <= static_cast<pid_t>(accepted); ++p) EXPECT_TRUE(r->is_tracked(p));
}

TEST(OrphanRegistry, LongRunOfTrackUntrackNeverExhaustsTheTable) {
  // Service restarts track and untrack forever; tombstones must not fill the table.
  auto r = make();
  for (pid_t p = 1; p < 200000; ++p) {
    ASSERT_TRUE(r->track(p)) << "pid " << p;
    if (p > 10) r->untrack(p - 10);
  }
  EXPECT_EQ(r->tracked_count(), 10u);
  EXPECT_TRUE(r->is_tracked(199999));
  EXPECT_FALSE(r->is_tracked(199989));
}
