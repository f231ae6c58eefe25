// The console writer: callers never wait for a slow console; lines keep their order; what a backlog beyond
// the bound drops is the oldest, and a notice says how much.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "runtime/console_writer.hpp"

using namespace dynamod;

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::string numbered(int i) { return "line " + std::to_string(i) + " of a stopping system\n"; }

}  // namespace

TEST(ConsoleWriter, LinesArriveWholeAndInOrder) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  {
    console_writer out;
    for (int i = 0; i < 100; ++i) out.write(p[1], numbered(i));
    EXPECT_TRUE(out.flush(std::chrono::seconds(30)));
    EXPECT_EQ(out.dropped(), 0u);
  }
  ::close(p[1]);
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += numbered(i);
  EXPECT_EQ(read_all(p[0]), expected);
  ::close(p[0]);
}

// A console nobody drains (a full pipe: write(2) blocks) must not hold the callers. Before the writer, a
// status line was written by the actor that had it, and ten thousand of them at 3 ms took half a minute.
TEST(ConsoleWriter, AStuckConsoleDropsTheOldestLinesAndSaysHowMany) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const int pipe_size = ::fcntl(p[1], F_GETPIPE_SZ);
  ASSERT_GT(pipe_size, 0);
  const size_t bound = 4096;
  const int lines = 20000;  // ~700 KB: far beyond the pipe and the bound
  uint64_t dropped = 0;
  std::string got;
  {
    console_writer out{bound};
    for (int i = 0; i < lines; ++i) out.write(p[1], numbered(i));  // returns: nothing reads the pipe yet
    dropped = out.dropped();
    EXPECT_GT(dropped, 0u);
    // What was not dropped is at most the bound, the batch being written (another bound) and the pipe's content.
    EXPECT_GE(dropped, static_cast<uint64_t>(lines) - (2 * bound + static_cast<size_t>(pipe_size)) / 20 - 2);
    ::fcntl(p[0], F_SETFL, O_NONBLOCK);
    // Drain while the writer catches up.
    for (;;) {
      char buf[4096];
      const ssize_t n = ::read(p[0], buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (out.flush(std::chrono::milliseconds(0))) {
        got += read_all(p[0]);
        break;
      }
      ::usleep(1000);
    }
  }
  ::close(p[1]);
  ::close(p[0]);
  EXPECT_NE(got.find(numbered(lines - 1)), std::string::npos) << "the newest line is kept";
  // The notices (one before each line written after a drop) add up to what was dropped.
  uint64_t noticed = 0;
  for (size_t at = got.find("[  ..  ] "); at != std::string::npos; at = got.find("[  ..  ] ", at + 1)) {
    const auto tail = got.find(" console line(s) dropped", at);
    ASSERT_NE(tail, std::string::npos);
    noticed += std::stoull(got.substr(at + 9, tail - at - 9));
  }
  EXPECT_EQ(noticed, dropped);
  // Every line that arrived is whole, and they are in order.
  int previous = -1;
  size_t pos = 0;
  while (pos < got.size()) {
    const size_t end = got.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    const std::string line = got.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("[  ..  ]", 0) == 0) continue;
    ASSERT_EQ(line.rfind("line ", 0), 0u) << line;
    const int i = std::stoi(line.substr(5));
    EXPECT_GT(i, previous);
    previous = i;
  }
}
