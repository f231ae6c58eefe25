#include "dynamodctl/shutdown_alias.hpp"

#include <gtest/gtest.h>

using dynamod::ctl::shutdown_alias;

namespace {

std::string mode_of(const std::string& program, std::vector<std::string> args) {
  auto r = shutdown_alias(program, args);
  EXPECT_TRUE(r.has_value()) << program;
  EXPECT_TRUE(r->error.empty()) << r->error;
  return r->mode;
}

std::string error_of(const std::string& program, std::vector<std::string> args) {
  auto r = shutdown_alias(program, args);
  EXPECT_TRUE(r.has_value()) << program;
  EXPECT_TRUE(r->mode.empty());
  return r->error;
}

}  // namespace

TEST(ShutdownAlias, OtherNamesAreNotAliases) {
  EXPECT_FALSE(shutdown_alias("dynamodctl", {"shutdown", "poweroff"}).has_value());
  EXPECT_FALSE(shutdown_alias("power", {}).has_value());
}

TEST(ShutdownAlias, EachNameMeansItsMode) {
  EXPECT_EQ(mode_of("poweroff", {}), "poweroff");
  EXPECT_EQ(mode_of("reboot", {}), "reboot");
  EXPECT_EQ(mode_of("halt", {}), "halt");
  EXPECT_EQ(mode_of("shutdown", {}), "poweroff");
}

TEST(ShutdownAlias, ShutdownFlagsPickTheMode) {
  EXPECT_EQ(mode_of("shutdown", {"-r", "now"}), "reboot");
  EXPECT_EQ(mode_of("shutdown", {"-h", "now"}), "poweroff");
  EXPECT_EQ(mode_of("shutdown", {"-P", "+0"}), "poweroff");
  EXPECT_EQ(mode_of("shutdown", {"-H", "now", "going", "down"}), "halt");
  EXPECT_EQ(mode_of("halt", {"-p"}), "poweroff");
  EXPECT_EQ(mode_of("poweroff", {"--reboot"}), "reboot");
  EXPECT_EQ(mode_of("reboot", {"-f", "--no-wall"}), "reboot");
}

TEST(ShutdownAlias, RefusesWhatItCannotDo) {
  EXPECT_NE(error_of("shutdown", {"-h", "+5"}).find("'+5'"), std::string::npos);
  EXPECT_NE(error_of("shutdown", {"-h", "22:00"}).find("now"), std::string::npos);
  EXPECT_NE(error_of("shutdown", {"-c"}).find("scheduled"), std::string::npos);
  EXPECT_NE(error_of("reboot", {"--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(error_of("poweroff", {"now"}).find("'now'"), std::string::npos);
  EXPECT_NE(error_of("halt", {"-w"}).find("-w"), std::string::npos);
}

TEST(ShutdownAlias, HelpIsNotAnError) {
  auto r = shutdown_alias("reboot", {"--help"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->help);
  EXPECT_NE(dynamod::ctl::shutdown_alias_usage("reboot").find("reboots"), std::string::npos);
}
