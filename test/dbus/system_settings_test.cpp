#include "dbus/system_settings.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dynamod::dbus;

TEST(SystemSettings, HostnamesAsSystemdValidatesThem) {
  for (const char* ok : {"debian", "debian-dynamod", "a", "web1.example.org", "x-1.y-2"}) {
    EXPECT_TRUE(hostname_is_valid(ok)) << ok;
  }
  for (const char* bad : {"", "-a", "a-", "a..b", ".a", "a.", "a_b", "a b", "ä", "a.-b", "a-.b"}) {
    EXPECT_FALSE(hostname_is_valid(bad)) << bad;
  }
  EXPECT_TRUE(hostname_is_valid(std::string(64, 'a')));
  EXPECT_FALSE(hostname_is_valid(std::string(65, 'a'))) << "HOST_NAME_MAX";
  EXPECT_TRUE(pretty_hostname_is_valid("Lennart's Laptop ☺"));
  EXPECT_FALSE(pretty_hostname_is_valid("two\nlines"));
  EXPECT_FALSE(pretty_hostname_is_valid(std::string(256, 'x')));
}

TEST(SystemSettings, AssignmentFilesAreReadLikeAShellWould) {
  const auto m = parse_assignments(
      "# comment\n"
      "PRETTY_HOSTNAME=\"Kitchen \\\"PC\\\"\"\n"
      "ICON_NAME='computer-desktop'\n"
      "export LANG=de_DE.UTF-8\n"
      "  CHASSIS=desktop  \n"
      "not an assignment\n"
      "1BAD=x\n"
      "EMPTY=\n");
  EXPECT_EQ(m.at("PRETTY_HOSTNAME"), "Kitchen \"PC\"");
  EXPECT_EQ(m.at("ICON_NAME"), "computer-desktop");
  EXPECT_EQ(m.at("LANG"), "de_DE.UTF-8");
  EXPECT_EQ(m.at("CHASSIS"), "desktop");
  EXPECT_EQ(m.at("EMPTY"), "");
  EXPECT_EQ(m.count("1BAD"), 0u);
  EXPECT_EQ(m.size(), 5u);
}

TEST(SystemSettings, UpdatesKeepEverythingElseAndQuoteWhatNeedsIt) {
  const std::string before = "# written by the installer\nLANG=C.UTF-8\nLC_TIME=en_GB.UTF-8\n";
  const std::string after = update_assignments(before, {{"LANG", "de_DE.UTF-8"}, {"LC_TIME", std::nullopt},
                                                        {"LC_PAPER", "de_DE.UTF-8"}});
  EXPECT_EQ(after, "# written by the installer\nLANG=de_DE.UTF-8\nLC_PAPER=de_DE.UTF-8\n");
  const std::string pretty = update_assignments("", {{"PRETTY_HOSTNAME", "Kitchen \"PC\" $HOME"}});
  EXPECT_EQ(pretty, "PRETTY_HOSTNAME=\"Kitchen \\\"PC\\\" \\$HOME\"\n");
  EXPECT_EQ(parse_assignments(pretty).at("PRETTY_HOSTNAME"), "Kitchen \"PC\" $HOME") << "what we write reads back";
  EXPECT_EQ(update_assignments("A=1\nA=2\n", {{"A", "3"}}), "A=3\n") << "a duplicate key collapses";
  EXPECT_EQ(update_assignments("no newline at the end", {}), "no newline at the end\n");
}

TEST(SystemSettings, TimezonesAndTheLocaltimeLink) {
  for (const char* ok : {"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+1", "Etc/GMT-14"}) {
    EXPECT_TRUE(timezone_name_is_valid(ok)) << ok;
  }
  for (const char* bad : {"", "/etc/passwd", "../../etc/shadow", "Europe//Berlin", "Europe/", "a b", "Europe/./x"}) {
    EXPECT_FALSE(timezone_name_is_valid(bad)) << bad;
  }
  EXPECT_EQ(localtime_link_target("Europe/Berlin"), "../usr/share/zoneinfo/Europe/Berlin");
  EXPECT_EQ(timezone_from_link("../usr/share/zoneinfo/Europe/Berlin"), "Europe/Berlin");
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/UTC"), "UTC");
  EXPECT_EQ(timezone_from_link("/usr/share/zoneinfo/posix/Asia/Tokyo"), "Asia/Tokyo");
  EXPECT_EQ(timezone_from_link("/etc/some-file"), std::nullopt);
  EXPECT_EQ(timezone_from_link("../usr/share/zoneinfo/../../etc/passwd"), std::nullopt);
}

TEST(SystemSettings, LocaleAssignments) {
  std::string key, value;
  EXPECT_TRUE(locale_assignment_is_valid("LANG=de_DE.UTF-8", &key, &value));
  EXPECT_EQ(key, "LANG");
  EXPECT_EQ(value, "de_DE.UTF-8");
  EXPECT_TRUE(locale_assignment_is_valid("LANGUAGE=de:en"));
  EXPECT_TRUE(locale_assignment_is_valid("LC_MESSAGES=sr_RS@latin"));
  EXPECT_FALSE(locale_assignment_is_valid("LANG"));
  EXPECT_FALSE(locale_assignment_is_valid("PATH=/bin")) << "not a locale key";
  EXPECT_FALSE(locale_assignment_is_valid("LANG="));
  EXPECT_FALSE(locale_assignment_is_valid("LANG=de_DE.UTF-8; rm -rf /"));
  EXPECT_FALSE(locale_assignment_is_valid("LANG=" + std::string(200, 'a')));
  EXPECT_EQ(locale_keys().front(), "LANG");
  EXPECT_EQ(locale_keys().size(), 14u);
}
