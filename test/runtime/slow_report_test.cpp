// The console's slow-start/stop lines stay few however many services are slow.
#include <gtest/gtest.h>

#include "runtime/slow_report.hpp"

using namespace dynamod;

TEST(SlowReport, FewSlowServicesAreEachNamed) {
  const auto lines = slow_lines({{"waiting for a to stop", 5}, {"waiting for b to become ready", 7}}, 4);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "waiting for a to stop, 5s");
  EXPECT_EQ(lines[1], "waiting for b to become ready, 7s");
  EXPECT_TRUE(slow_lines({}, 4).empty());
}

TEST(SlowReport, ManyAreTheLongestWaitsAndOneLineForTheRest) {
  std::vector<slow_item> items;
  for (int i = 0; i < 10000; ++i) items.push_back({"waiting for s" + std::to_string(i) + " to stop", 5 + (i == 7) * 3});
  const auto lines = slow_lines(items, 4);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "waiting for s7 to stop, 8s") << "the longest wait first";
  EXPECT_EQ(lines[1], "waiting for s0 to stop, 5s") << "then in the order given";
  EXPECT_EQ(lines[2], "waiting for s1 to stop, 5s");
  EXPECT_EQ(lines[3], "and 9997 more (dynamodctl list shows them all)");
}
