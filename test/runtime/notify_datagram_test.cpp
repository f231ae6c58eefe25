#include <gtest/gtest.h>

#include "actors/notify_socket_actor.hpp"

using dynamod::parse_notify_datagram;

TEST(NotifyDatagram, SplitsFieldsInOrder) {
  auto f = parse_notify_datagram("READY=1\nSTATUS=Serving 3 clients\nMAINPID=42\n");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"READY", "1"}));
  EXPECT_EQ(f[1].second, "Serving 3 clients");
  EXPECT_EQ(f[2].first, "MAINPID");
}

TEST(NotifyDatagram, SkipsLinesWithoutAKey) {
  auto f = parse_notify_datagram("garbage\n=nokey\nWATCHDOG=1");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].first, "WATCHDOG");
}

TEST(NotifyDatagram, ValueMayContainEquals) {
  auto f = parse_notify_datagram("STATUS=a=b");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].second, "a=b");
}
