// One client flooding a connection with calls the runtime would have to answer: after kMaxCallsPerSender waiting
// ones, further calls are refused with LimitsExceeded, and accepted again once the waiting ones are answered.
// A real sd-bus pair over a socketpair (peer to peer, as systemctl's private socket), no bus daemon.
#include "dbus/bus_message.hpp"

#include <gtest/gtest.h>
#include <systemd/sd-id128.h>

#include <sys/socket.h>

#include <vector>

using namespace dynamod::dbus;

namespace {

struct server_side {
  std::vector<message_ref> waiting;  // calls kept for a later reply, as the objects keep them
  int refused = 0;
};

int on_filter(sd_bus_message* m, void* ud, sd_bus_error*) {
  auto& s = *static_cast<server_side*>(ud);
  if (!sd_bus_message_is_method_call(m, nullptr, nullptr) || !call_over_limit(m)) return 0;
  ++s.refused;
  reply_error(m, "org.freedesktop.DBus.Error.LimitsExceeded", "Too many calls waiting; try again later.");
  return 1;
}

int on_call(sd_bus_message* m, void* ud, sd_bus_error*) {
  static_cast<server_side*>(ud)->waiting.push_back(keep(m));
  return 1;
}

struct replies {
  int ok = 0;
  int limited = 0;
};

int on_reply(sd_bus_message* m, void* ud, sd_bus_error*) {
  auto& r = *static_cast<replies*>(ud);
  if (sd_bus_message_is_method_error(m, "org.freedesktop.DBus.Error.LimitsExceeded")) {
    ++r.limited;
  } else if (!sd_bus_message_is_method_error(m, nullptr)) {
    ++r.ok;
  }
  return 1;
}

void run_both(sd_bus* a, sd_bus* b) {
  for (int i = 0; i < 10000; ++i) {
    const int x = sd_bus_process(a, nullptr);
    const int y = sd_bus_process(b, nullptr);
    ASSERT_GE(x, 0);
    ASSERT_GE(y, 0);
    if (x == 0 && y == 0) {
      sd_bus_flush(a);
      sd_bus_flush(b);
      if (sd_bus_process(a, nullptr) == 0 && sd_bus_process(b, nullptr) == 0) return;
    }
  }
}

}  // namespace

TEST(CallLimits, ASenderWithTooManyWaitingCallsIsRefusedUntilTheyAreAnswered) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
  sd_bus* server = nullptr;
  sd_bus* client = nullptr;
  sd_id128_t id;
  ASSERT_GE(sd_id128_randomize(&id), 0);
  ASSERT_GE(sd_bus_new(&server), 0);
  ASSERT_GE(sd_bus_set_fd(server, fds[0], fds[0]), 0);
  ASSERT_GE(sd_bus_set_server(server, 1, id), 0);
  ASSERT_GE(sd_bus_start(server), 0);
  ASSERT_GE(sd_bus_new(&client), 0);
  ASSERT_GE(sd_bus_set_fd(client, fds[1], fds[1]), 0);
  ASSERT_GE(sd_bus_start(client), 0);

  server_side s;
  ASSERT_GE(sd_bus_add_filter(server, nullptr, on_filter, &s), 0);
  ASSERT_GE(sd_bus_add_object(server, nullptr, "/x", on_call, &s), 0);
  replies r;
  constexpr int kCalls = kMaxCallsPerSender + 36;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_GE(sd_bus_call_method_async(client, nullptr, nullptr, "/x", "x.y", "Slow", on_reply, &r, ""), 0);
  }
  run_both(client, server);
  EXPECT_EQ(static_cast<int>(s.waiting.size()), kMaxCallsPerSender);
  EXPECT_EQ(s.refused, 36);
  EXPECT_EQ(r.limited, 36);
  EXPECT_EQ(r.ok, 0);

  // Answered, the waiting calls count no more: the sender is served again.
  for (auto& m : s.waiting) sd_bus_reply_method_return(m.get(), "");
  s.waiting.clear();
  run_both(client, server);
  EXPECT_EQ(r.ok, kMaxCallsPerSender);
  ASSERT_GE(sd_bus_call_method_async(client, nullptr, nullptr, "/x", "x.y", "Slow", on_reply, &r, ""), 0);
  run_both(client, server);
  EXPECT_EQ(s.waiting.size(), 1u);
  EXPECT_EQ(s.refused, 36);
  s.waiting.clear();
  sd_bus_flush_close_unref(client);
  sd_bus_close_unref(server);
}
