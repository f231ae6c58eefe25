#include "pid1/switch_root.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using dynamod::init::delete_tree_on_device;

namespace {

struct scratch {
  fs::path root;
  scratch() {
    char tmpl[] = "/tmp/switch_root_test.XXXXXX";
    root = ::mkdtemp(tmpl);
  }
  ~scratch() { fs::remove_all(root); }
};

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

uint64_t last_freed = 0;

unsigned delete_below(const fs::path& dir, dev_t dev) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  uint64_t freed = 0;
  const unsigned left = delete_tree_on_device(fd, dev, &freed);
  ::close(fd);
  last_freed = freed;
  return left;
}

}  // namespace

TEST(SwitchRoot, DeletesANestedTreeButNotTheDirectoryItself) {
  scratch s;
  const fs::path top = s.root / "initramfs";
  fs::create_directories(top / "usr/lib/modules/6.1/kernel/fs");
  fs::create_directories(top / "empty");
  touch(top / "init");
  touch(top / "usr/lib/modules/6.1/kernel/fs/ext4.ko");
  fs::create_symlink("/init", top / "sbin-init");
  ::mkfifo((top / "fifo").c_str(), 0600);
  struct stat st {};
  ASSERT_EQ(::stat(top.c_str(), &st), 0);
  EXPECT_EQ(delete_below(top, st.st_dev), 0u);
  EXPECT_TRUE(fs::exists(top));
  EXPECT_TRUE(fs::is_empty(top));
  EXPECT_GT(last_freed, 0u);  // the two files' blocks
}

TEST(SwitchRoot, NeverFollowsASymlinkOutOfTheTree) {
  scratch s;
  const fs::path top = s.root / "initramfs";
  const fs::path precious = s.root / "precious";
  fs::create_directories(top);
  fs::create_directories(precious / "keep");
  touch(precious / "keep/file");
  fs::create_directory_symlink(precious, top / "link");
  struct stat st {};
  ASSERT_EQ(::stat(top.c_str(), &st), 0);
  EXPECT_EQ(delete_below(top, st.st_dev), 0u);
  EXPECT_FALSE(fs::exists(top / "link"));
  EXPECT_TRUE(fs::exists(precious / "keep/file"));
}

TEST(SwitchRoot, KeepsEverythingOnAnotherDevice) {
  // Entries whose device differs (here: all of them, as seen from a made-up device number) are mount points of
  // other file systems, such as the new root: left alone, contents and all.
  scratch s;
  const fs::path top = s.root / "initramfs";
  fs::create_directories(top / "newroot/etc");
  touch(top / "newroot/etc/fstab");
  touch(top / "init");
  struct stat st {};
  ASSERT_EQ(::stat(top.c_str(), &st), 0);
  EXPECT_EQ(delete_below(top, st.st_dev + 1), 0u);
  EXPECT_TRUE(fs::exists(top / "newroot/etc/fstab"));
  EXPECT_TRUE(fs::exists(top / "init"));
}
