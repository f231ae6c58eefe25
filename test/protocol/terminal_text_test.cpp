#include "protocol/terminal_text.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "runtime/safe_log_format.hpp"

using dynamod::is_terminal_safe;
using dynamod::terminal_safe;

TEST(TerminalText, PrintableTextAndUtf8PassUnchanged) {
  for (const char* s : {"web.toml:3:8: service.exec: 'a b' \\ x", "Grüße, 服务, ✓"}) {
    EXPECT_EQ(terminal_safe(s), s);
    EXPECT_TRUE(is_terminal_safe(s));
  }
}

TEST(TerminalText, ControlCharactersBecomeVisibleEscapes) {
  EXPECT_EQ(terminal_safe("a\nb\tc\rd\x1b[2Je\x7f\x01"), "a\\nb\\tc\\rd\\e[2Je\\x7f\\x01");
  EXPECT_EQ(terminal_safe(std::string{"nul\0x", 5}), "nul\\x00x");
  EXPECT_FALSE(is_terminal_safe("a\nb"));
}

TEST(TerminalText, C1ControlsAndInvalidUtf8AreEscapedByte) {
  EXPECT_EQ(terminal_safe("\xc2\x9b" "31m"), "\\xc2\\x9b31m");  // U+009B, the 8-bit CSI
  EXPECT_EQ(terminal_safe("\x9b" "31m"), "\\x9b31m");          // a lone C1 byte
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(terminal_safe("\xe2\x9c"), "\\xe2\\x9c");          // truncated
  EXPECT_FALSE(is_terminal_safe("\xc2\x9b"));
}

TEST(TerminalText, TabsMayBeKeptForServiceOutput) { EXPECT_EQ(terminal_safe("a\tb\n", true), "a\tb\\n"); }

TEST(SafeLogFormat, EveryLoggedMessageIsEscaped) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  sink->set_formatter(std::make_unique<dynamod::safe_log_format>("%l: %v"));
  spdlog::logger log{"test", sink};
  log.warn("{}: started", "svc\n[  OK  ] forged\x1b[2J");
  log.info("plain");
  EXPECT_EQ(out.str(), "warning: svc\\n[  OK  ] forged\\e[2J: started\ninfo: plain\n");
}
