#include "pid1/file_limit.hpp"

#include <gtest/gtest.h>

#include <cstring>

using dynamod::init::parse_nr_open;

TEST(FileLimit, ParsesNrOpen) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_nr_open("1048576\n", 8, v));
  EXPECT_EQ(v, 1048576u);
  EXPECT_TRUE(parse_nr_open("1073741816", 10, v));
  EXPECT_EQ(v, 1073741816u);
}

TEST(FileLimit, RejectsAnythingButAPositiveNumber) {
  uint64_t v = 7;
  for (const char* bad : {"", "\n", "0\n", "12x\n", "-5", "99999999999999999999"}) {
    EXPECT_FALSE(parse_nr_open(bad, std::strlen(bad), v)) << bad;
  }
  EXPECT_EQ(v, 7u);
}
