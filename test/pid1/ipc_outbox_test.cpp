#include "pid1/ipc_outbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "protocol/frame_codec.hpp"

using namespace dynamod::init;
using dynamod::protocol::init_message;
using dynamod::protocol::init_msg;
using dynamod::protocol::power_mode;

namespace {
// Decodes every complete frame in `bytes`.
std::vector<init_message> decode_all(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> storage(dynamod::protocol::kInitMaxFrame);
  dynamod::protocol::frame_reader reader{storage.data(), storage.size(), dynamod::protocol::kInitProtocolVersion};
  std::vector<init_message> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t n = std::min(reader.write_space(), bytes.size() - pos);
    std::copy(bytes.begin() + static_cast<long>(pos), bytes.begin() + static_cast<long>(pos + n), reader.write_ptr());
    reader.commit(n);
    pos += n;
    dynamod::protocol::frame_view f;
    while (reader.next(f) == dynamod::protocol::frame_status::ok) {
      init_message m;
      EXPECT_EQ(dynamod::protocol::decode(f, m), dynamod::protocol::decode_status::ok);
      out.push_back(m);
    }
  }
  return out;
}

// Sends at most `n` bytes of the outbox (a socket that takes only so much).
void send_some(ipc_outbox& box, std::vector<uint8_t>& wire, size_t n) {
  n = std::min(n, box.size());
  wire.insert(wire.end(), box.data(), box.data() + n);
  box.consume(n);
}
}  // namespace

// Issue 14 §6: a stop_all requested while orphan exits fill the output buffer was dropped.
TEST(IpcOutbox, StopAllIsNeverDroppedWhenOrphanExitsFillTheBuffer) {
  static orphan_registry orphans;
  for (pid_t pid = 100; pid < 100 + 1500; ++pid) {
    ASSERT_TRUE(orphans.track(pid));
    ASSERT_TRUE(orphans.on_reaped(pid, 9));
  }
  ipc_outbox box;
  box.fill(orphans, true);
  ASSERT_GT(box.size(), ipc_outbox::kCapacity - 32) << "the buffer is full of orphan exits";
  box.request_ping(1);  // 10 bytes: no room left for it
  box.fill(orphans, true);
  EXPECT_TRUE(box.control_pending()) << "no room: it stays pending instead of being dropped";
  box.request_stop_all(power_mode::reboot);
  std::vector<uint8_t> wire;
  while (box.size() > 0 || box.control_pending() || orphans.has_pending()) {
    send_some(box, wire, 100);  // the runtime reads slowly
    box.fill(orphans, true);
  }
  const auto messages = decode_all(wire);
  size_t stops = 0;
  size_t exits = 0;
  size_t stop_index = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].type == init_msg::stop_all) {
      ++stops;
      stop_index = i;
      EXPECT_EQ(messages[i].mode, power_mode::reboot);
    }
    if (messages[i].type == init_msg::orphan_exit) ++exits;
  }
  EXPECT_EQ(stops, 1u);
  EXPECT_EQ(std::count_if(messages.begin(), messages.end(), [](const init_message& m) { return m.type == init_msg::ping; }),
            1);
  EXPECT_EQ(exits, 1500u) << "no orphan exit lost either";
  // It went out as soon as there was room, ahead of the orphan exits still queued then.
  EXPECT_LT(stop_index, 400u);
}

TEST(IpcOutbox, ControlMessagesGoFirstAndOrphansWaitForReady) {
  static orphan_registry orphans;
  ASSERT_TRUE(orphans.track(42));
  ASSERT_TRUE(orphans.on_reaped(42, 0));
  ipc_outbox box;
  box.request_hello(7);
  box.request_ping(3);
  box.fill(orphans, false);
  std::vector<uint8_t> wire(box.data(), box.data() + box.size());
  auto messages = decode_all(wire);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, init_msg::hello);
  EXPECT_EQ(messages[0].generation, 7u);
  EXPECT_EQ(messages[1].type, init_msg::ping);
  EXPECT_EQ(messages[1].sequence, 3u);
  EXPECT_TRUE(orphans.has_pending()) << "not forwarded before the runtime is ready";
  box.consume(box.size());
  box.request_stop_all(power_mode::poweroff);
  box.fill(orphans, true);
  messages = decode_all(std::vector<uint8_t>(box.data(), box.data() + box.size()));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, init_msg::stop_all);
  EXPECT_EQ(messages[1].type, init_msg::orphan_exit);
  EXPECT_EQ(messages[1].pid, 42u);
}

TEST(IpcOutbox, ResetForgetsTheOldChannel) {
  static orphan_registry orphans;
  ipc_outbox box;
  box.request_stop_all(power_mode::halt);
  box.fill(orphans, true);
  EXPECT_GT(box.size(), 0u);
  box.reset();
  EXPECT_EQ(box.size(), 0u);
  EXPECT_FALSE(box.control_pending());
}
