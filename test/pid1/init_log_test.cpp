#include "pid1/init_log.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <string>

using namespace dynamod::init;

namespace {
std::string text(const log_line& l) { return std::string(l.data(), l.size()); }
}  // namespace

TEST(LogLine, FormatsIntegersOfEverySignAndSize) {
  log_line l;
  l << 0 << ' ' << -17 << ' ' << 4294967295U << ' ' << LLONG_MIN;
  EXPECT_EQ(text(l), "0 -17 4294967295 -9223372036854775808");
}

TEST(LogLine, FormatsDurations) {
  log_line l;
  l << duration_text{250} << ' ' << duration_text{1600} << ' ' << duration_text{30000} << ' '
    << duration_text{12345};
  EXPECT_EQ(text(l), "250ms 1.6s 30s 12.3s");
}

TEST(LogLine, FormatsErrnoText) {
  log_line l;
  l << errno_text{ENOENT} << " | " << errno_text{99999};
  EXPECT_EQ(text(l), "No such file or directory | errno 99999");
}

TEST(LogLine, TruncatesInsteadOfOverflowing) {
  log_line l;
  const std::string big(2000, 'x');
  l << big.c_str() << "tail";
  EXPECT_LT(l.size(), 1000u);
  EXPECT_EQ(text(l).find("tail"), std::string::npos);
}
