#include "protocol/init_messages.hpp"

#include <gtest/gtest.h>

#include <cstring>

using namespace dynamod::protocol;

namespace {
init_message round_trip(const init_message& m) {
  uint8_t buf[kInitMaxFrame];
  const size_t n = encode(m, buf, sizeof buf);
  EXPECT_GT(n, 0u);
  frame_view v;
  size_t size = 0;
  EXPECT_EQ(peek_frame(buf, n, kInitProtocolVersion, kInitMaxFrame, v, size), frame_status::ok);
  EXPECT_EQ(size, n);
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::ok);
  return out;
}
}  // namespace

TEST(InitMessages, EveryMessageRoundTrips) {
  init_message m;
  m.type = init_msg::ready;
  EXPECT_EQ(round_trip(m).type, init_msg::ready);

  m.type = init_msg::shutdown;
  m.mode = power_mode::reboot;
  EXPECT_EQ(round_trip(m).mode, power_mode::reboot);

  m.type = init_msg::stop_all;
  m.mode = power_mode::halt;
  EXPECT_EQ(round_trip(m).mode, power_mode::halt);

  m.type = init_msg::track;
  m.pid = 4242;
  EXPECT_EQ(round_trip(m).pid, 4242u);

  m.type = init_msg::orphan_exit;
  m.pid = 77;
  m.wait_status = 9;  // killed by SIGKILL
  auto o = round_trip(m);
  EXPECT_EQ(o.pid, 77u);
  EXPECT_EQ(o.wait_status, 9);

  m.type = init_msg::hello;
  m.generation = 3;
  EXPECT_EQ(round_trip(m).generation, 3u);

  m.type = init_msg::ping;
  m.sequence = 0xdeadbeef;
  EXPECT_EQ(round_trip(m).sequence, 0xdeadbeefu);
  EXPECT_EQ(round_trip(m).type, init_msg::ping);

  m.type = init_msg::pong;
  m.sequence = 12;
  EXPECT_EQ(round_trip(m).sequence, 12u);
  EXPECT_EQ(round_trip(m).type, init_msg::pong);

  m.type = init_msg::give_up;
  std::strcpy(m.text, "intensity exceeded in root");
  m.text_length = static_cast<uint16_t>(std::strlen(m.text));
  EXPECT_STREQ(round_trip(m).text, "intensity exceeded in root");
}

TEST(InitMessages, UnknownTypeIsReportedNotCrashed) {
  uint8_t buf[16];
  const size_t n = encode_frame(buf, sizeof buf, kInitProtocolVersion, 0x55, nullptr, 0);
  frame_view v;
  size_t size = 0;
  ASSERT_EQ(peek_frame(buf, n, kInitProtocolVersion, kInitMaxFrame, v, size), frame_status::ok);
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::unknown_type);
}

TEST(InitMessages, ShortOrTrailingBodiesAreMalformed) {
  const uint8_t short_track[2] = {1, 0};
  frame_view v{kInitProtocolVersion, static_cast<uint8_t>(init_msg::track), short_track, 2};
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::bad_body);

  const uint8_t long_ready[1] = {0};
  v = frame_view{kInitProtocolVersion, static_cast<uint8_t>(init_msg::ready), long_ready, 1};
  EXPECT_EQ(decode(v, out), decode_status::bad_body);
}

TEST(InitMessages, InvalidPowerModeIsMalformed) {
  const uint8_t body[1] = {9};
  frame_view v{kInitProtocolVersion, static_cast<uint8_t>(init_msg::shutdown), body, 1};
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::bad_body);
}

TEST(InitMessages, TrackOfPidZeroIsMalformed) {
  const uint8_t body[4] = {0, 0, 0, 0};
  frame_view v{kInitProtocolVersion, static_cast<uint8_t>(init_msg::track), body, 4};
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::bad_body);
}

TEST(InitMessages, OversizedGiveUpTextIsRejected) {
  uint8_t body[300];
  body_writer w{body, sizeof body};
  char text[260];
  std::memset(text, 'x', sizeof text);
  w.str(text, sizeof text);
  frame_view v{kInitProtocolVersion, static_cast<uint8_t>(init_msg::give_up), body, static_cast<uint32_t>(w.size())};
  init_message out;
  EXPECT_EQ(decode(v, out), decode_status::bad_body);
}

TEST(InitMessages, PowerModesParseByName) {
  power_mode m{};
  EXPECT_TRUE(parse_power_mode("reboot", m));
  EXPECT_EQ(m, power_mode::reboot);
  EXPECT_TRUE(parse_power_mode("poweroff", m));
  EXPECT_EQ(m, power_mode::poweroff);
  EXPECT_FALSE(parse_power_mode("explode", m));
}
