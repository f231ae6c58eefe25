#include "pid1/mountinfo.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
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
  std::string line = "41 1 0:1 / /" + std::string(5000, 'p') + " rw - tmpfs tmpfs rw\n";
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

// Issue 14 §6: a source over 127 bytes or a mount point over 255 failed to parse and was never unmounted.
TEST(Mountinfo, LongSourceAndMountPointParse) {
  const std::string point = "/var/lib/containers/storage/overlay/" + std::string(300, 'a') + "/merged";
  const std::string source = "//fileserver.example.org/" + std::string(200, 's');
  const std::string line = "50 22 0:60 / " + point + " rw,relatime - cifs " + source + " rw\n";
  size_t malformed = 0;
  auto entries = parse_all(line, &malformed);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(malformed, 0u);
  EXPECT_EQ(entries[0].mount_point, point);
  EXPECT_EQ(entries[0].source, source);
}

namespace {
struct chunked_text {
  std::string text;
  size_t pos = 0;
  size_t chunk = 0;  // bytes per read
};
long read_chunk(void* context, char* buffer, size_t capacity) {
  auto* c = static_cast<chunked_text*>(context);
  const size_t n = std::min({capacity, c->chunk, c->text.size() - c->pos});
  std::memcpy(buffer, c->text.data() + c->pos, n);
  c->pos += n;
  return static_cast<long>(n);
}
std::string many_mounts(int count) {
  std::string text = "1 0 0:1 / / rw - rootfs rootfs rw\n";
  for (int i = 2; i <= count; ++i) {
    text += std::to_string(i) + " 1 0:" + std::to_string(i) + " / /run/containers/c" + std::to_string(i) +
            "/rootfs/proc rw,nosuid - proc proc rw\n";
  }
  return text;
}
}  // namespace

// Issue 14 §6: mountinfo was read into 64 KiB and capped at 512 entries, cutting the newest mounts.
TEST(MountinfoStream, ReadsEveryLineOfAFileFarLargerThanItsBuffer) {
  chunked_text input{many_mounts(3000), 0, 1000};
  ASSERT_GT(input.text.size(), 65536u * 2);
  static char buffer[4096];
  mountinfo_stream stream{buffer, sizeof buffer, read_chunk, &input};
  static mount_entry e;
  int count = 0;
  int last_id = 0;
  while (stream.next(e)) {
    ++count;
    last_id = e.id;
  }
  EXPECT_EQ(count, 3000);
  EXPECT_EQ(last_id, 3000) << "the newest mount is there";
  EXPECT_STREQ(e.mount_point, "/run/containers/c3000/rootfs/proc");
  EXPECT_EQ(stream.malformed_lines(), 0u);
  EXPECT_EQ(stream.overlong_lines(), 0u);
}

TEST(MountinfoStream, ALineLongerThanTheBufferIsSkippedAndCounted) {
  chunked_text input{"1 0 0:1 / / rw - rootfs rootfs rw\n2 1 0:2 / /" + std::string(6000, 'x') +
                         " rw - tmpfs tmpfs rw\n3 1 0:3 / /after rw - tmpfs tmpfs rw",
                     0, 777};
  static char buffer[4096];
  mountinfo_stream stream{buffer, sizeof buffer, read_chunk, &input};
  static mount_entry e;
  std::vector<int> ids;
  while (stream.next(e)) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<int>{1, 3}));
  EXPECT_EQ(stream.overlong_lines(), 1u);
  EXPECT_STREQ(e.mount_point, "/after");
}

// Shutdown unmounts in passes over the live table: a simulated kernel table of 3000 mounts, each
// unmountable only once its children are gone, ends empty but for "/", children always before parents.
TEST(UnmountTail, PassesUnmountEveryMountNewestFirst) {
  struct mount {
    int id, parent;
    std::string point;
  };
  std::vector<mount> table{{1, 0, "/"}};
  for (int i = 2; i <= 3000; ++i) {
    // Every tenth mount nests under the previous one.
    const int parent = i % 10 == 0 ? i - 1 : 1;
    table.push_back({i, parent, (parent == 1 ? "" : table.back().point) + "/m" + std::to_string(i)});
  }
  std::vector<int> order;
  static unmount_tail tail;
  static mount_entry e;
  for (int pass = 0; pass < 1000; ++pass) {
    tail.begin_pass();
    for (const auto& m : table) {
      e.id = m.id;
      std::snprintf(e.mount_point, sizeof e.mount_point, "%s", m.point.c_str());
      tail.offer(e);
    }
    if (tail.size() == 0) break;
    for (size_t i = 0; i < tail.size(); ++i) {
      const int id = tail.id(i);
      auto it = std::find_if(table.begin(), table.end(), [&](const mount& m) { return m.id == id; });
      ASSERT_NE(it, table.end());
      ASSERT_EQ(it->point, tail.mount_point(i));
      const bool busy = std::any_of(table.begin(), table.end(), [&](const mount& m) { return m.parent == id; });
      if (busy) {
        tail.give_up(id);  // EBUSY and no lazy unmount in this simulation
        continue;
      }
      order.push_back(id);
      table.erase(it);
    }
  }
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(order.size(), 2999u);
  EXPECT_EQ(tail.given_up_count(), 0u) << "newest first: no mount is tried before its children";
}

TEST(UnmountTail, GivenUpMountsAreSkippedSoThePassesEnd) {
  static unmount_tail tail;
  static mount_entry e;
  int passes = 0;
  for (; passes < 100; ++passes) {
    tail.begin_pass();
    for (int id = 1; id <= 200; ++id) {
      e.id = id;
      std::snprintf(e.mount_point, sizeof e.mount_point, "/stuck%d", id);
      tail.offer(e);
    }
    if (tail.size() == 0) break;
    for (size_t i = 0; i < tail.size(); ++i) ASSERT_TRUE(tail.give_up(tail.id(i)));
  }
  EXPECT_EQ(passes, 4);  // 64 + 64 + 64 + 8
  EXPECT_EQ(tail.given_up_count(), 200u);
}
