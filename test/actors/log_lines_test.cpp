#include "actors/log_sink_actor.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "runtime/io/log_files.hpp"

using namespace dynamod;

namespace {
std::vector<std::string> split(std::string& partial, const std::string& data, size_t& used) {
  std::vector<std::string> lines;
  used = split_log_lines(partial, data.data(), data.size(), [&](const std::string& l) { lines.push_back(l); });
  return lines;
}
}  // namespace

TEST(LogLines, CompleteLinesAreTakenAndTheUnfinishedRestIsLeft) {
  std::string partial;
  size_t used = 0;
  auto lines = split(partial, "one\ntwo\nthr", used);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(used, 8u);  // "thr" stays where it is (in the FIFO) until its newline comes
}

TEST(LogLines, AnEarlierUnfinishedLineIsCompletedFirst) {
  std::string partial = "thr";
  size_t used = 0;
  auto lines = split(partial, "ee\nfour", used);
  EXPECT_EQ(lines, (std::vector<std::string>{"three"}));
  EXPECT_TRUE(partial.empty());
  EXPECT_EQ(used, 3u);
}

TEST(LogLines, OverlongLinesAreCutIntoPiecesOfTheLimit) {
  std::string partial(kMaxLogLine - 10, 'a');
  size_t used = 0;
  const std::string data = std::string(kMaxLogLine + 20, 'b') + "\n";
  auto lines = split(partial, data, used);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), kMaxLogLine);
  EXPECT_EQ(lines[1].size(), kMaxLogLine);
  EXPECT_EQ(lines[2].size(), 10u);  // the rest of the b's: (kMax + 20) - 10 - kMax
  EXPECT_EQ(used, data.size());
}

TEST(LogLines, ALineOfExactlyTheLimitIsOneLine) {
  std::string partial;
  size_t used = 0;
  auto lines = split(partial, std::string(kMaxLogLine, 'x') + "\nnext\n", used);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), kMaxLogLine);
  EXPECT_EQ(lines[1], "next");
}

TEST(RotatingLogSink, RuntimeLogRotatesLikeAServiceLog) {
  char tmpl[] = "/tmp/rotating_log_test.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string file = dir + "/runtime.log";
  {
    auto sink = std::make_shared<rotating_log_sink>(file, 1000, 2);
    spdlog::logger logger("rotation-test", sink);
    for (int i = 0; i < 100; ++i) logger.info("message number {:04d} padding padding padding", i);
  }
  auto read = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  const std::string current = read(file), first = read(file + ".1"), second = read(file + ".2");
  EXPECT_LE(current.size(), 1000u);
  EXPECT_GT(first.size(), 0u);
  EXPECT_LE(first.size(), 1000u);
  EXPECT_GT(second.size(), 0u);
  EXPECT_NE(current.find("message number 0099"), std::string::npos);
  EXPECT_FALSE(std::ifstream(file + ".3").good()) << "keep = 2";
  std::system(("rm -rf " + dir).c_str());
}
