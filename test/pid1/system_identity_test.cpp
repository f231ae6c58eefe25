#include "pid1/system_identity.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dynamod::init;

namespace {
std::string hostname(const std::string& content) {
  char out[65];
  const size_t n = hostname_from_file(content.data(), content.size(), out, sizeof out);
  return n ? std::string(out, n) : std::string();
}
}  // namespace

TEST(Hostname, FirstNonCommentLineTrimmed) {
  EXPECT_EQ(hostname("# managed by ansible\n\n  web-01.example  \n"), "web-01.example");
  EXPECT_EQ(hostname("box"), "box");
}

TEST(Hostname, InvalidOrEmptyYieldsNothing) {
  EXPECT_EQ(hostname(""), "");
  EXPECT_EQ(hostname("# only a comment\n"), "");
  EXPECT_EQ(hostname("bad host name\n"), "");
  EXPECT_EQ(hostname(std::string(65, 'a')), "");
}

TEST(MachineId, ValidatesThirtyTwoLowercaseHexDigits) {
  EXPECT_TRUE(is_valid_machine_id("0123456789abcdef0123456789abcdef\n", 33));
  EXPECT_TRUE(is_valid_machine_id("0123456789abcdef0123456789abcdef", 32));
  EXPECT_FALSE(is_valid_machine_id("0123456789ABCDEF0123456789abcdef", 32));
  EXPECT_FALSE(is_valid_machine_id("", 0));
  EXPECT_FALSE(is_valid_machine_id("uninitialized\n", 14));
}

TEST(MachineId, FormatsAVersionFourIdThatValidates) {
  unsigned char random[16];
  for (int i = 0; i < 16; ++i) random[i] = static_cast<unsigned char>(0xF0 + i);
  char id[33];
  format_machine_id(random, id);
  EXPECT_TRUE(is_valid_machine_id(id, 33));
  EXPECT_EQ(id[12], '4');                             // version nibble
  EXPECT_TRUE(id[16] >= '8' && id[16] <= 'b');        // RFC 4122 variant
  EXPECT_EQ(std::string(id, 4), "f0f1");
}
