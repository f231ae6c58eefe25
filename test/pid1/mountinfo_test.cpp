#include "pid1/mountinfo.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace dynamod::init;

namespace {
const std::string kSample =
    "22 1 0:21 / / rw,relatime - rootfs rootfs rw\n"
    "23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
    "24 22 0:5 / /dev rw,nosuid master:2 shared:3 - devtmpfs devtmpfs rw,size=4k,mode=755\n"
    "25 22 8:1 /data /mnt/my\\040disk rw - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "garbage line without fields\n"
    "26 22 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

std::vector<mount_entry> parse_all(const std::string& text, size_t* malformed = nullptr) {
  mountinfo_parser p{text.data(), text.size()};
  std::vector<mount_entry> out;
  mount_entry e;
  while (p.next(e)) out.push_back(e);
  if (malformed) *malformed = p.malformed_lines();
  return out;
}
}  // namespace

TEST(Mountinfo, ParsesIdsMountPointTypeAndSource) {
  size_t malformed = 0;
  auto entries = parse_all(kSample, &malformed);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(malformed, 1u);
  EXPECT_EQ(entries[1].id, 23);
  EXPECT_EQ(entries[1].parent_id, 22);
  EXPECT_STREQ(entries[1].mount_point, "/proc");
  EXPECT_STREQ(entries[1].fstype, "proc");
  EXPECT_STREQ(entries[2].fstype, "devtmpfs");  // two optional fields before the separator
  EXPECT_STREQ(entries[4].fstype, "cgroup2");
}

TEST(Mountinfo, UnescapesOctalSequencesInPaths) {
  auto entries = parse_all(kSample);
  EXPECT_STREQ(entries[3].mount_point, "/mnt/my disk");
  EXPECT_STREQ(entries[3].source, "/dev/sda1");
}

TEST(Mountinfo, IsMountPointMatchesWholePathsOnly) {
  EXPECT_TRUE(is_mount_point(kSample.data(), kSample.size(), "/proc"));
  EXPECT_TRUE(is_mount_point(kSample.data(), kSample.size(), "/sys/fs/cgroup"));
  EXPECT_FALSE(is_mount_point(kSample.data(), kSample.size(), "/sys"));
  EXPECT_FALSE(is_mount_point(kSample.data(), kSample.size(), "/pro"));
}

TEST(Mountinfo, LineWithoutSeparatorIsMalformed) {
  mount_entry e;
  const std::string line = "30 22 0:40 / /run rw shared:9 tmpfs tmpfs rw";
  EXPECT_FALSE(parse_mountinfo_line(line.data(), line.size(), e));
}

TEST(Mountinfo, LastLineWithoutNewlineIsParsed) {
  auto entries = parse_all("40 1 0:1 / /x rw - tmpfs tmpfs rw");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_STREQ(entries[0].mount_point, "/x");
}

TEST(Mountinfo, OverlongPathIsSkippedNotOverrun) {
  std::string line = "41 1 0:1 / /" + std::string(400, 'p') + " rw - tmpfs tmpfs rw\n";
  size_t malformed = 0;
  EXPECT_TRUE(parse_all(line, &malformed).empty());
  EXPECT_EQ(malformed, 1u);
}

TEST(Mountinfo, ReadsTheHostsRealMountinfo) {
  // Whatever this machine mounts, "/" is always there and every line parses.
  char buf[65536];
  FILE* f = std::fopen("/proc/self/mountinfo", "r");
  ASSERT_NE(f, nullptr);
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  size_t malformed = 0;
  auto entries = parse_all(std::string(buf, n), &malformed);
  EXPECT_EQ(malformed, 0u);
  EXPECT_TRUE(is_mount_point(buf, n, "/"));
  EXPECT_FALSE(entries.empty());
}
