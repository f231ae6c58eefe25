#include "behaviours/restart_intensity.hpp"

#include <gtest/gtest.h>

using namespace dynamod::behaviours;

TEST(RestartIntensity, AllowsExactlyMaxRestartsInTheWindow) {
  restart_intensity r{{3, 10}};
  EXPECT_TRUE(r.add(0));
  EXPECT_TRUE(r.add(1));
  EXPECT_TRUE(r.add(2));
  EXPECT_FALSE(r.add(3));
}

TEST(RestartIntensity, DropsOnlyEntriesStrictlyOlderThanTheWindow) {
  restart_intensity r{{1, 5}};
  EXPECT_TRUE(r.add(100));
  EXPECT_FALSE(r.add(105)) << "105 - 5 = 100: the entry at 100 is still inside (inclusive)";
  restart_intensity r2{{1, 5}};
  EXPECT_TRUE(r2.add(100));
  EXPECT_TRUE(r2.add(106));
}

TEST(RestartIntensity, ZeroMeansTheFirstRestartIsTooMany) {
  restart_intensity r{{0, 5}};
  EXPECT_FALSE(r.add(0));
}

TEST(RestartIntensity, AllowsAnswersAsAddWouldWithoutRecording) {
  restart_intensity r{{1, 5}};
  EXPECT_TRUE(r.allows(100));
  EXPECT_EQ(r.entries(), 0u);
  r.add(100);
  EXPECT_FALSE(r.allows(105)) << "inclusive window, as add";
  EXPECT_TRUE(r.allows(106));
  EXPECT_EQ(r.entries(), 1u);
  EXPECT_FALSE(restart_intensity({0, 5}).allows(0));
}
