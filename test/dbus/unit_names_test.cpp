#include "dbus/unit_names.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace dynamod::dbus;

TEST(UnitNames, ObjectPathLabelsEscapeAsSdBusDoes) {
  EXPECT_EQ(escape_path_label("foo.service"), "foo_2eservice");
  EXPECT_EQ(escape_path_label("session-c1.scope"), "session_2dc1_2escope");
  EXPECT_EQ(escape_path_label("1x.service"), "_31x_2eservice") << "a digit first is escaped";
  EXPECT_EQ(escape_path_label("a1"), "a1") << "a digit later is kept";
  EXPECT_EQ(escape_path_label(""), "_");
  EXPECT_EQ(escape_path_label("getty@tty1.service"), "getty_40tty1_2eservice");
  EXPECT_EQ(escape_path_label(std::string("\xff\x00", 2)), "_ff_00");
  EXPECT_EQ(unit_object_path("sshd.service"), "/org/freedesktop/systemd1/unit/sshd_2eservice");
}

TEST(UnitNames, UnescapingIsTheInverseAndRefusesWhatNoEscapeMakes) {
  for (const std::string& name :
       std::vector<std::string>{"foo.service", "getty@tty1.service", "1x", "", "-.slice", "a\\x2db.mount"}) {
    EXPECT_EQ(unescape_path_label(escape_path_label(name)), name) << name;
  }
  EXPECT_EQ(unescape_path_label("_2"), std::nullopt) << "truncated escape";
  EXPECT_EQ(unescape_path_label("_"), std::string{}) << "the empty label";
  EXPECT_EQ(unescape_path_label("_zz"), std::nullopt);
  EXPECT_EQ(unescape_path_label("a.b"), std::nullopt) << "a dot is never in a label";
  EXPECT_EQ(unit_from_object_path("/org/freedesktop/systemd1/unit/sshd_2eservice"), "sshd.service");
  EXPECT_EQ(unit_from_object_path("/org/freedesktop/systemd1/unit/"), std::nullopt);
  EXPECT_EQ(unit_from_object_path("/org/freedesktop/systemd1/unit/a/b"), std::nullopt);
  EXPECT_EQ(unit_from_object_path("/org/freedesktop/systemd1"), std::nullopt);
}

TEST(UnitNames, ValidNamesAsSystemdSeesThem) {
  auto u = parse_unit_name("getty@tty1.service");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prefix, "getty");
  EXPECT_EQ(u->instance, "tty1");
  EXPECT_FALSE(u->is_template);
  auto t = parse_unit_name("getty@.service");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->is_template);
  EXPECT_EQ(parse_unit_name("multi-user.target")->type, unit_type::target);
  EXPECT_EQ(parse_unit_name("-.slice")->prefix, "-");
  EXPECT_TRUE(parse_unit_name("dev-disk-by\\x2duuid-1234.device"));
}

TEST(UnitNames, InvalidNamesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"", "sshd", "sshd.bogus", ".service", "@x.service",
                                                         "a@b@c.service", "a b.service", "a/b.service",
                                                         "\xc3\xbcnicode.service", std::string("a\0b.service", 11)}) {
    EXPECT_EQ(parse_unit_name(bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(parse_unit_name(std::string(kUnitNameMax - 8, 'a') + ".service"));
  EXPECT_FALSE(parse_unit_name(std::string(kUnitNameMax - 7, 'a') + ".service")) << "one byte too long";
}

TEST(UnitNames, DynamodNamesBehindUnits) {
  auto s = dynamod_name_of("sshd.service");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "sshd");
  EXPECT_FALSE(s->supervisor);
  auto g = dynamod_name_of("system.target");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->name, "system");
  EXPECT_TRUE(g->supervisor);
  EXPECT_EQ(dynamod_name_of("sshd.socket"), std::nullopt);
  EXPECT_EQ(dynamod_name_of("getty@.service"), std::nullopt) << "a template is no service";
  EXPECT_EQ(dynamod_name_of("getty@tty1.service")->name, "getty@tty1");
  EXPECT_EQ(unit_of_service("cron"), "cron.service");
  EXPECT_EQ(unit_of_supervisor("boot"), "boot.target");
}

TEST(UnitNames, PatternsAreGlobs) {
  EXPECT_TRUE(unit_pattern_matches("ssh*", "sshd.service"));
  EXPECT_TRUE(unit_pattern_matches("*.service", "cron.service"));
  EXPECT_FALSE(unit_pattern_matches("*.target", "cron.service"));
  EXPECT_TRUE(unit_pattern_matches("getty-tty[S1]*", "getty-ttyS0.service"));
  EXPECT_TRUE(unit_pattern_matches("c?on.service", "cron.service"));
  EXPECT_FALSE(unit_pattern_matches(std::string("a\0*", 3), "abc"));
}
