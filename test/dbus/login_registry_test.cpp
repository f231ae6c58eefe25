#include "dbus/login_registry.hpp"

#include <gtest/gtest.h>

using namespace dynamod::dbus::login;

namespace {

session_request tty_login(uint32_t uid, uint32_t leader, uint32_t vt) {
  session_request r;
  r.uid = uid;
  r.leader = leader;
  r.service = "login";
  r.type = "tty";
  r.seat = kSeat0;
  r.vtnr = vt;
  r.tty = "tty" + std::to_string(vt);
  return r;
}

session_request ssh_login(uint32_t uid, uint32_t leader) {
  session_request r;
  r.uid = uid;
  r.leader = leader;
  r.service = "sshd";
  r.type = "tty";
  r.remote = true;
  r.remote_host = "10.0.2.2";
  return r;
}

}  // namespace

TEST(LoginRegistry, ATtyLoginOnTheForegroundVtIsActiveAndItsUserIsNew) {
  login_registry reg;
  ASSERT_FALSE(reg.check(tty_login(1000, 300, 1)));
  auto c = reg.create(tty_login(1000, 300, 1), "debian", 1000, 3u, 1, 1'000'000);
  EXPECT_EQ(c.id, "3") << "the leader's audit session is the id, as logind does";
  EXPECT_TRUE(c.new_user);
  const session* s = reg.find("3");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->active);
  EXPECT_EQ(s->state(), "active");
  EXPECT_EQ(s->scope(), "session-3.scope");
  EXPECT_EQ(reg.active_session(kSeat0), "3");
  EXPECT_EQ(reg.find_user(1000)->runtime_path(), "/run/user/1000");
}

TEST(LoginRegistry, WithoutAnAuditSessionIdsComeFromACounter) {
  login_registry reg;
  EXPECT_EQ(reg.create(ssh_login(0, 10), "root", 0, std::nullopt, 1, 0).id, "c1");
  EXPECT_EQ(reg.create(ssh_login(0, 11), "root", 0, UINT32_MAX, 1, 0).id, "c2") << "4294967295 is 'no audit session'";
  EXPECT_EQ(reg.create(ssh_login(0, 12), "root", 0, 7u, 1, 0).id, "7");
  EXPECT_EQ(reg.create(ssh_login(0, 13), "root", 0, 7u, 1, 0).id, "c3") << "an id in use is never reused";
}

TEST(LoginRegistry, SeatlessSessionsAreAlwaysActiveAndNotOnTheSeat) {
  login_registry reg;
  auto c = reg.create(ssh_login(1000, 50), "debian", 1000, std::nullopt, 1, 0);
  EXPECT_TRUE(reg.find(c.id)->active);
  EXPECT_FALSE(reg.active_session(kSeat0));
  EXPECT_TRUE(reg.seat_sessions(kSeat0).empty());
}

TEST(LoginRegistry, AVtSwitchMovesTheActiveSession) {
  login_registry reg;
  auto a = reg.create(tty_login(1000, 100, 1), "debian", 1000, 1u, 1, 0);
  auto b = reg.create(tty_login(1001, 200, 2), "other", 1001, 2u, 1, 0);
  EXPECT_TRUE(reg.find(a.id)->active);
  EXPECT_FALSE(reg.find(b.id)->active) << "tty2 is not on the console";
  EXPECT_EQ(reg.switch_to_vt(2), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(reg.active_session(kSeat0), "2");
  EXPECT_TRUE(reg.switch_to_vt(2).empty()) << "nothing changes twice";
  EXPECT_EQ(reg.activate("1"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(reg.switch_to_vt(5), (std::vector<std::string>{"1"})) << "a VT without a session: none is active";
  EXPECT_FALSE(reg.active_session(kSeat0));
}

TEST(LoginRegistry, BadRequestsAreRefusedWithLogindsErrors) {
  login_registry reg;
  auto r = tty_login(1000, 1, 1);
  r.type = "vnc";
  EXPECT_EQ(reg.check(r)->error, "org.freedesktop.DBus.Error.InvalidArgs");
  r = tty_login(1000, 1, 1);
  r.session_class = "root";
  EXPECT_EQ(reg.check(r)->message, "Invalid session class root");
  r = tty_login(1000, 1, 1);
  r.seat = "seat1";
  EXPECT_EQ(reg.check(r)->error, "org.freedesktop.login1.NoSuchSeat");
  r = ssh_login(1000, 1);
  r.vtnr = 3;
  EXPECT_EQ(reg.check(r)->message, "VT number specified for seat without VTs");
  r = tty_login(1000, 1, 64);
  EXPECT_TRUE(reg.check(r));
  r = tty_login(1000, 0, 1);
  EXPECT_EQ(reg.check(r)->message, "Invalid leader PID");
  r = ssh_login(1000, 1);
  r.remote_host = std::string(300, 'h');
  EXPECT_TRUE(reg.check(r)) << "no unbounded text in the files sd-login reads";
  r.remote_host = "a\nUID=0";
  EXPECT_TRUE(reg.check(r)) << "a newline would forge a key in the session file";
  reg.create(tty_login(1000, 77, 1), "debian", 1000, std::nullopt, 1, 0);
  EXPECT_EQ(reg.check(tty_login(1000, 77, 1))->error, "org.freedesktop.login1.SessionBusy");
}

TEST(LoginRegistry, TheLastSessionOfAUserTakesTheUserAlong) {
  login_registry reg;
  auto a = reg.create(tty_login(1000, 100, 1), "debian", 1000, std::nullopt, 1, 0);
  auto b = reg.create(ssh_login(1000, 200), "debian", 1000, std::nullopt, 1, 0);
  EXPECT_FALSE(b.new_user);
  auto first = reg.remove(a.id);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->user_gone);
  EXPECT_FALSE(reg.active_session(kSeat0));
  auto last = reg.remove(b.id);
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->user_gone);
  EXPECT_EQ(reg.find_user(1000), nullptr);
  EXPECT_FALSE(reg.remove(b.id)) << "a session ends once";
}

TEST(LoginRegistry, TheFilesSdLoginReads) {
  login_registry reg;
  reg.set_seat_graphical(true);
  auto tty = reg.create(tty_login(1000, 300, 1), "debian", 1000, 2u, 1, 1'700'000'000'000'000);
  auto way = tty_login(1000, 400, 1);
  way.type = "wayland";
  way.vtnr = 0;
  way.tty = "";
  way.desktop = "sway";
  auto gfx = reg.create(way, "debian", 1000, 5u, 1, 1'700'000'000'000'001);
  EXPECT_EQ(reg.session_file(*reg.find(tty.id)),
            "# This is private data. Do not parse.\nUID=1000\nUSER=debian\nACTIVE=1\nIS_DISPLAY=0\nSTATE=active\n"
            "REMOTE=0\nTYPE=tty\nCLASS=user\nSCOPE=session-2.scope\nSEAT=seat0\nTTY=tty1\nSERVICE=login\nVTNR=1\n"
            "LEADER=300\nREALTIME=1700000000000000\n");
  const std::string g = reg.session_file(*reg.find(gfx.id));
  EXPECT_NE(g.find("IS_DISPLAY=1\n"), std::string::npos) << "the graphical session is the user's display";
  EXPECT_NE(g.find("ACTIVE=0\n"), std::string::npos);
  EXPECT_NE(g.find("DESKTOP=sway\n"), std::string::npos);
  EXPECT_EQ(g.find("VTNR="), std::string::npos);
  EXPECT_EQ(reg.user_file(*reg.find_user(1000)),
            "# This is private data. Do not parse.\nNAME=debian\nSTATE=active\nSTOPPING=no\nRUNTIME=/run/user/1000\n"
            "SLICE=user-1000.slice\nDISPLAY=5\nREALTIME=1700000000000000\nSESSIONS=2 5\nSEATS=seat0\n"
            "ACTIVE_SESSIONS=2\nONLINE_SESSIONS=2 5\nACTIVE_SEATS=seat0\nONLINE_SEATS=seat0\n");
  EXPECT_EQ(reg.seat_file(kSeat0),
            "# This is private data. Do not parse.\nIS_SEAT0=1\nCAN_MULTI_SESSION=1\nCAN_TTY=1\nCAN_GRAPHICAL=1\n"
            "ACTIVE=2\nACTIVE_UID=1000\nSESSIONS=2 5\nUIDS=1000 1000\n");
}

TEST(LoginRegistry, SessionIdsAreAlphanumeric) {
  EXPECT_TRUE(session_id_is_valid("c12"));
  EXPECT_FALSE(session_id_is_valid(""));
  EXPECT_FALSE(session_id_is_valid("../1"));
  EXPECT_FALSE(session_id_is_valid(std::string(256, '1')));
}

TEST(LoginRegistry, ARestartRestoresTheSessionsFromTheirFiles) {
  login_registry before;
  before.set_seat_graphical(true);
  auto tty = before.create(tty_login(1000, 300, 1), "debian", 1000, 2u, 1, 1'700'000'000'000'000);
  auto ssh = before.create(ssh_login(0, 400), "root", 0, std::nullopt, 1, 1'700'000'000'000'001);
  before.find(tty.id)->controller = ":1.42";

  login_registry after;
  after.set_seat_graphical(true);
  EXPECT_TRUE(after.restore(tty.id, before.session_file(*before.find(tty.id)), 1000));
  EXPECT_TRUE(after.restore(ssh.id, before.session_file(*before.find(ssh.id)), 0));
  for (const auto& id : {tty.id, ssh.id}) {
    EXPECT_EQ(after.session_file(*after.find(id)), before.session_file(*before.find(id))) << id;
  }
  EXPECT_EQ(after.user_file(*after.find_user(1000)), before.user_file(*before.find_user(1000)));
  EXPECT_EQ(after.seat_file(kSeat0), before.seat_file(kSeat0));
  EXPECT_EQ(after.create(ssh_login(0, 500), "root", 0, std::nullopt, 1, 0).id, "c2") << "counter ids go on after c1";
}

TEST(LoginRegistry, AFileThatDescribesNoSessionIsNotRestored) {
  login_registry reg;
  EXPECT_FALSE(reg.restore("3", "UID=1000\n", 1000)) << "no leader";
  EXPECT_FALSE(reg.restore("3", "UID=x\nLEADER=5\n", 1000));
  EXPECT_FALSE(reg.restore("3", "UID=1000\nLEADER=5\nTYPE=vnc\n", 1000)) << "what CreateSession refuses";
  EXPECT_FALSE(reg.restore("3", "UID=1000\nLEADER=5\nSEAT=seat9\n", 1000));
  EXPECT_FALSE(reg.restore("../3", "UID=1000\nLEADER=5\n", 1000));
  EXPECT_FALSE(reg.restore("3", "UID=99999999999999999999999\nLEADER=5\n", 1000));
  EXPECT_TRUE(reg.restore("3", "UID=1000\nLEADER=5\n", 1000));
  EXPECT_FALSE(reg.restore("3", "UID=1000\nLEADER=6\n", 1000)) << "an id already known";
  EXPECT_EQ(reg.find("3")->from.type, "unspecified");
}

TEST(LoginRegistry, AVirtualConsoleTtyPutsTheSessionOnSeat0WithItsVt) {
  session_request r;
  r.tty = "tty3";  // what pam_systemd sends for a console login: no seat, no VT
  EXPECT_FALSE(complete_from_tty(r));
  EXPECT_EQ(r.seat, "seat0");
  EXPECT_EQ(r.vtnr, 3u);
  session_request dev;
  dev.tty = "/dev/tty12";
  dev.vtnr = 12;
  EXPECT_FALSE(complete_from_tty(dev));
  EXPECT_EQ(dev.vtnr, 12u);
  session_request console;
  console.tty = "console";
  EXPECT_FALSE(complete_from_tty(console));
  EXPECT_EQ(console.seat, "seat0");
  EXPECT_EQ(console.vtnr, 0u);
  session_request remote;
  remote.tty = "pts/0";  // an ssh login stays seatless
  EXPECT_FALSE(complete_from_tty(remote));
  EXPECT_EQ(remote.seat, "");
  EXPECT_EQ(remote.vtnr, 0u);
}

TEST(LoginRegistry, ATtyThatContradictsTheSeatOrVtIsRefused) {
  session_request other_vt;
  other_vt.tty = "tty2";
  other_vt.vtnr = 5;
  EXPECT_TRUE(complete_from_tty(other_vt));
  session_request other_seat;
  other_seat.tty = "tty2";
  other_seat.seat = "seat1";
  EXPECT_TRUE(complete_from_tty(other_seat));
  session_request console_vt;
  console_vt.tty = "console";
  console_vt.vtnr = 1;
  EXPECT_TRUE(complete_from_tty(console_vt));
  session_request zero;
  zero.tty = "tty0";  // the current console, not a VT of its own
  EXPECT_FALSE(complete_from_tty(zero));
  EXPECT_EQ(zero.seat, "");
}
