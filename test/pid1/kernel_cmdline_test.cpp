#include "pid1/kernel_cmdline.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace dynamod::init;

namespace {
struct parsed {
  init_options options;
  cmdline_warnings warnings;
};
parsed parse(const std::string& text) {
  parsed p;
  parse_kernel_cmdline(text.data(), text.size(), p.options, p.warnings);
  return p;
}
}  // namespace

TEST(KernelCmdline, DefaultsWhenNoDynamodOptions) {
  auto p = parse("BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet console=ttyS0\n");
  EXPECT_STREQ(p.options.runtime_path, "/usr/lib/dynamod/dynamod-runtime");
  EXPECT_EQ(p.options.stop_timeout_ms, 90000u);
  EXPECT_EQ(p.options.kill_grace_ms, 5000u);
  EXPECT_EQ(p.options.backoff_initial_ms, 100u);
  EXPECT_EQ(p.options.backoff_max_ms, 30000u);
  EXPECT_FALSE(p.options.emergency);
  EXPECT_EQ(p.warnings.count, 0u);
}

TEST(KernelCmdline, ReadsEveryOption) {
  auto p = parse(
      "console=ttyS0 dynamod.runtime=/opt/rt dynamod.shell=/bin/ash dynamod.stop_timeout=20s "
      "dynamod.kill_grace=1500ms dynamod.backoff=50,2s,10s dynamod.emergency dynamod.debug");
  EXPECT_STREQ(p.options.runtime_path, "/opt/rt");
  EXPECT_STREQ(p.options.shell_path, "/bin/ash");
  EXPECT_EQ(p.options.stop_timeout_ms, 20000u);
  EXPECT_EQ(p.options.kill_grace_ms, 1500u);
  EXPECT_EQ(p.options.backoff_initial_ms, 50u);
  EXPECT_EQ(p.options.backoff_max_ms, 2000u);
  EXPECT_EQ(p.options.backoff_reset_ms, 10000u);
  EXPECT_TRUE(p.options.emergency);
  EXPECT_TRUE(p.options.debug);
  EXPECT_EQ(p.warnings.count, 0u);
}

TEST(KernelCmdline, QuotedValueMayContainSpaces) {
  auto p = parse("dynamod.runtime=\"/opt/my runtime\" quiet");
  EXPECT_STREQ(p.options.runtime_path, "/opt/my runtime");
}

TEST(KernelCmdline, WordsAfterDoubleDashBelongToInit) {
  auto p = parse("quiet -- dynamod.runtime=/nope");
  EXPECT_STREQ(p.options.runtime_path, "/usr/lib/dynamod/dynamod-runtime");
}

TEST(KernelCmdline, BadValuesKeepDefaultsAndWarn) {
  auto p = parse("dynamod.stop_timeout=soon dynamod.runtime=relative/path dynamod.backoff=5 dynamod.kill_grace=");
  EXPECT_EQ(p.options.stop_timeout_ms, 90000u);
  EXPECT_STREQ(p.options.runtime_path, "/usr/lib/dynamod/dynamod-runtime");
  EXPECT_EQ(p.options.backoff_initial_ms, 100u);
  EXPECT_EQ(p.options.kill_grace_ms, 5000u);
  ASSERT_EQ(p.warnings.count, 4u);
  EXPECT_NE(std::strstr(p.warnings.text[0], "dynamod.stop_timeout=soon"), nullptr);
}

TEST(KernelCmdline, UnknownDynamodOptionWarns) {
  auto p = parse("dynamod.frobnicate=1");
  ASSERT_EQ(p.warnings.count, 1u);
  EXPECT_NE(std::strstr(p.warnings.text[0], "unknown option"), nullptr);
}

TEST(KernelCmdline, UnterminatedQuoteWarnsAndDoesNotOverrun) {
  auto p = parse("dynamod.runtime=\"/opt/x y");
  EXPECT_GE(p.warnings.count, 1u);
}

TEST(KernelCmdline, OverlongValueIsRejected) {
  auto p = parse("dynamod.runtime=/" + std::string(400, 'a'));
  EXPECT_STREQ(p.options.runtime_path, "/usr/lib/dynamod/dynamod-runtime");
  EXPECT_EQ(p.warnings.count, 1u);
}

TEST(KernelCmdline, WarningsBeyondCapacityAreCounted) {
  std::string text;
  for (int i = 0; i < 12; ++i) text += "dynamod.bogus" + std::to_string(i) + " ";
  auto p = parse(text);
  EXPECT_EQ(p.warnings.count, cmdline_warnings::kMax);
  EXPECT_EQ(p.warnings.dropped, 4u);
}

TEST(DurationMs, UnitsAndBareNumbers) {
  uint32_t v = 0;
  EXPECT_TRUE(parse_duration_ms("250ms", 5, v));
  EXPECT_EQ(v, 250u);
  EXPECT_TRUE(parse_duration_ms("3s", 2, v));
  EXPECT_EQ(v, 3000u);
  EXPECT_TRUE(parse_duration_ms("2m", 2, v));
  EXPECT_EQ(v, 120000u);
  EXPECT_TRUE(parse_duration_ms("7", 1, v));
  EXPECT_EQ(v, 7000u);
  EXPECT_TRUE(parse_duration_ms("7", 1, v, 1));
  EXPECT_EQ(v, 7u);
}

TEST(DurationMs, RejectsGarbageAndOverflow) {
  uint32_t v = 42;
  EXPECT_FALSE(parse_duration_ms("", 0, v));
  EXPECT_FALSE(parse_duration_ms("ms", 2, v));
  EXPECT_FALSE(parse_duration_ms("5h", 2, v));
  EXPECT_FALSE(parse_duration_ms("99999999999", 11, v));
  EXPECT_FALSE(parse_duration_ms("4294968s", 8, v));
  EXPECT_EQ(v, 42u);
}

TEST(KernelCmdline, LivenessPingIntervalAndDeadline) {
  auto p = parse("dynamod.liveness=2s,5");
  EXPECT_EQ(p.options.liveness_interval_ms, 2000u);
  EXPECT_EQ(p.options.liveness_timeout_ms, 5000u);
  EXPECT_EQ(p.warnings.count, 0u);
  p = parse("dynamod.liveness=0,0");
  EXPECT_EQ(p.options.liveness_interval_ms, 0u) << "0 turns the ping off";
  p = parse("dynamod.liveness=5s dynamod.liveness=1s,0");
  EXPECT_EQ(p.options.liveness_interval_ms, 15000u);
  EXPECT_EQ(p.options.liveness_timeout_ms, 60000u);
  EXPECT_EQ(p.warnings.count, 2u);
}
