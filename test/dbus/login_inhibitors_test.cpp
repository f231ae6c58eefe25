#include "dbus/login_inhibitors.hpp"

#include <gtest/gtest.h>

using namespace dynamod::dbus::login;

namespace {

inhibitor make(uint32_t what, inhibit_mode mode, uint32_t uid = 1000) {
  inhibitor i;
  i.what = what;
  i.mode = mode;
  i.who = "test";
  i.why = "because";
  i.uid = uid;
  i.pid = 42;
  return i;
}

uint32_t added(inhibitor_registry& r, inhibitor i) {
  auto result = r.add(std::move(i));
  EXPECT_TRUE(std::holds_alternative<uint32_t>(result));
  return std::holds_alternative<uint32_t>(result) ? std::get<uint32_t>(result) : 0;
}

std::string refusal_of(inhibitor_registry& r, inhibitor i) {
  auto result = r.add(std::move(i));
  return std::holds_alternative<inhibitor_registry::refusal>(result) ? std::get<inhibitor_registry::refusal>(result).error
                                                                    : "accepted";
}

}  // namespace

TEST(LoginInhibitors, WhatListsParseAndPrintInLogindsOrder) {
  EXPECT_EQ(parse_inhibit_what("shutdown"), inhibit_shutdown);
  EXPECT_EQ(parse_inhibit_what("handle-power-key:shutdown"), inhibit_shutdown | inhibit_power_key);
  EXPECT_EQ(inhibit_what_text(inhibit_power_key | inhibit_shutdown | inhibit_idle), "shutdown:idle:handle-power-key");
  EXPECT_FALSE(parse_inhibit_what(""));
  EXPECT_FALSE(parse_inhibit_what("shutdown:"));
  EXPECT_FALSE(parse_inhibit_what("shutdown::sleep"));
  EXPECT_FALSE(parse_inhibit_what("reboot"));
  EXPECT_EQ(parse_inhibit_mode("block"), inhibit_mode::block);
  EXPECT_EQ(parse_inhibit_mode("delay"), inhibit_mode::delay);
  EXPECT_FALSE(parse_inhibit_mode("block-weak"));
  EXPECT_FALSE(parse_inhibit_mode(""));
}

TEST(LoginInhibitors, OnlyShutdownAndSleepCanBeDelayed) {
  inhibitor_registry r;
  EXPECT_EQ(refusal_of(r, make(inhibit_power_key, inhibit_mode::delay)), "org.freedesktop.DBus.Error.InvalidArgs");
  EXPECT_EQ(refusal_of(r, make(inhibit_shutdown | inhibit_idle, inhibit_mode::delay)),
            "org.freedesktop.DBus.Error.InvalidArgs");
  added(r, make(inhibit_shutdown | inhibit_sleep, inhibit_mode::delay));
  added(r, make(inhibit_power_key | inhibit_idle, inhibit_mode::block));
  EXPECT_EQ(r.inhibited(inhibit_mode::delay), inhibit_shutdown | inhibit_sleep);
  EXPECT_EQ(r.inhibited(inhibit_mode::block), inhibit_power_key | inhibit_idle);
}

TEST(LoginInhibitors, OneUserCannotTakeEveryonesShareButRootIsNotCounted) {
  inhibitor_registry r;
  for (size_t i = 0; i < kMaxInhibitorsPerUser; ++i) added(r, make(inhibit_sleep, inhibit_mode::delay, 1000));
  EXPECT_EQ(refusal_of(r, make(inhibit_sleep, inhibit_mode::delay, 1000)), "org.freedesktop.DBus.Error.LimitsExceeded");
  added(r, make(inhibit_sleep, inhibit_mode::delay, 1001));
  for (size_t i = 0; i < kMaxInhibitorsPerUser + 1; ++i) added(r, make(inhibit_sleep, inhibit_mode::delay, 0));
  EXPECT_EQ(refusal_of(r, make(inhibit_sleep, inhibit_mode::delay, 1000)), "org.freedesktop.DBus.Error.LimitsExceeded");
  EXPECT_EQ(r.all().size(), 2 * kMaxInhibitorsPerUser + 2);
}

TEST(LoginInhibitors, TheWholeTableIsBounded) {
  inhibitor_registry r;
  for (size_t i = 0; i < kMaxInhibitors; ++i) added(r, make(inhibit_sleep, inhibit_mode::delay, 0));
  EXPECT_EQ(refusal_of(r, make(inhibit_sleep, inhibit_mode::delay, 0)), "org.freedesktop.DBus.Error.LimitsExceeded");
}

TEST(LoginInhibitors, LongTextsAreRefused) {
  inhibitor_registry r;
  auto i = make(inhibit_shutdown, inhibit_mode::delay);
  i.why.assign(kMaxInhibitorText + 1, 'x');
  EXPECT_EQ(refusal_of(r, i), "org.freedesktop.DBus.Error.InvalidArgs");
  EXPECT_TRUE(r.all().empty());
}

TEST(LoginInhibitors, IdsAreUniqueAndRemovalForgets) {
  inhibitor_registry r;
  const uint32_t a = added(r, make(inhibit_shutdown, inhibit_mode::block));
  const uint32_t b = added(r, make(inhibit_shutdown, inhibit_mode::block));
  EXPECT_NE(a, b);
  EXPECT_TRUE(r.remove(a));
  EXPECT_FALSE(r.remove(a));
  EXPECT_EQ(r.find(a), nullptr);
  ASSERT_NE(r.find(b), nullptr);
  EXPECT_EQ(r.find(b)->who, "test");
  EXPECT_TRUE(r.remove(b));
  EXPECT_EQ(r.inhibited(inhibit_mode::block), 0u);
}

TEST(LoginInhibitors, BlockingNeedsRootOrALocalSessionAndDelayingNothing) {
  EXPECT_TRUE(may_inhibit(inhibit_mode::delay, 65534, false));
  EXPECT_FALSE(may_inhibit(inhibit_mode::block, 65534, false));
  EXPECT_TRUE(may_inhibit(inhibit_mode::block, 1000, true));
  EXPECT_TRUE(may_inhibit(inhibit_mode::block, 0, false));
}

TEST(LoginInhibitors, RootGoesPastBlocksUnlessItAsksToBeHeldToThem) {
  inhibitor_registry r;
  added(r, make(inhibit_shutdown, inhibit_mode::block, 1000));
  EXPECT_FALSE(decide_shutdown(r, 0, 0).refused);
  auto checked = decide_shutdown(r, 0, kCheckInhibitorsFlag);
  EXPECT_TRUE(checked.refused);
  EXPECT_EQ(checked.message, "Access denied to root due to active block inhibitor");
  EXPECT_TRUE(decide_shutdown(r, 1001, 0).refused) << "another user's block";
  EXPECT_FALSE(decide_shutdown(r, 1000, 0).refused) << "one's own block does not hold one back";
}

TEST(LoginInhibitors, RootsOwnBlockDoesNotHoldRootBack) {
  inhibitor_registry r;
  added(r, make(inhibit_shutdown, inhibit_mode::block, 0));
  EXPECT_FALSE(decide_shutdown(r, 0, kCheckInhibitorsFlag).refused);
}

TEST(LoginInhibitors, SleepLocksDoNotTouchShutdown) {
  inhibitor_registry r;
  added(r, make(inhibit_sleep, inhibit_mode::block));
  added(r, make(inhibit_sleep, inhibit_mode::delay));
  auto v = decide_shutdown(r, 0, kCheckInhibitorsFlag);
  EXPECT_FALSE(v.refused);
  EXPECT_FALSE(v.delayed);
}

TEST(LoginInhibitors, DelayLocksDelayEvenThoseWhoHoldThem) {
  inhibitor_registry r;
  added(r, make(inhibit_shutdown, inhibit_mode::delay, 0));
  EXPECT_TRUE(decide_shutdown(r, 0, 0).delayed);
  EXPECT_FALSE(decide_shutdown(r, 0, 0).refused);
}

TEST(LoginInhibitors, TheFileCarriesAnInhibitorOverARestart) {
  auto i = make(inhibit_shutdown | inhibit_power_key, inhibit_mode::block, 1000);
  i.who = "evil\nWHAT=sleep\\";
  i.why = "a\x01z";
  const std::string text = inhibitor_file(i, "/run/systemd/inhibit/7.ref");
  EXPECT_NE(text.find("\nWHAT=shutdown:handle-power-key\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\nWHAT=sleep"), std::string::npos) << "who cannot add a line: " << text;
  auto back = parse_inhibitor_file(7, text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, 7u);
  EXPECT_EQ(back->what, i.what);
  EXPECT_EQ(back->mode, inhibit_mode::block);
  EXPECT_EQ(back->uid, 1000u);
  EXPECT_EQ(back->pid, 42u);
  EXPECT_EQ(back->who, i.who);
  EXPECT_EQ(back->why, i.why);
  inhibitor_registry r;
  EXPECT_TRUE(r.restore(*back));
  EXPECT_FALSE(r.restore(*back)) << "its id is taken";
  EXPECT_GT(added(r, make(inhibit_sleep, inhibit_mode::delay)), 7u) << "new ids follow the restored ones";
}

TEST(LoginInhibitors, BrokenFilesAreNotRestored) {
  EXPECT_FALSE(parse_inhibitor_file(1, ""));
  EXPECT_FALSE(parse_inhibitor_file(1, "WHAT=shutdown\nMODE=block\nUID=x\nPID=1\n"));
  EXPECT_FALSE(parse_inhibitor_file(1, "WHAT=nothing\nMODE=block\nUID=0\nPID=1\n"));
  EXPECT_FALSE(parse_inhibitor_file(1, "WHAT=shutdown\nMODE=maybe\nUID=0\nPID=1\n"));
  EXPECT_FALSE(parse_inhibitor_file(1, "WHAT=shutdown\nMODE=block\nUID=99999999999\nPID=1\n"));
  EXPECT_FALSE(parse_inhibitor_file(0, "WHAT=shutdown\nMODE=block\nUID=0\nPID=1\n"));
  EXPECT_TRUE(parse_inhibitor_file(1, "WHAT=shutdown\nMODE=block\nUID=0\nPID=1\n"));
}
