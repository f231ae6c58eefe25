// Finding root= among the block devices, on a fake /sys/class/block (links into a devices tree, as sysfs
// has them) and a fake /dev whose "nodes" are image files: a GPT disk vda with an ext4 partition vda1 and a
// btrfs partition vda2, and an unpartitioned vdb.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "pid1/block_identity.hpp"
#include "pid1/root_device.hpp"

using namespace dynamod::init;

namespace {

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = v & 0xff;
  b[at + 1] = v >> 8;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  ::close(fd);
}

void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

class RootDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/root-device-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    top = tmpl;
    sys = top + "/sys/class/block";
    dev = top + "/dev";
    for (const auto& d : {top + "/sys", top + "/sys/class", sys, dev, top + "/sys/devices",
                          top + "/sys/devices/vda", top + "/sys/devices/vda/vda1", top + "/sys/devices/vda/vda2",
                          top + "/sys/devices/vdb"}) {
      ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    }
    device("vda", "../../devices/vda", "254:0", "");
    device("vda1", "../../devices/vda/vda1", "254:1", "1");
    device("vda2", "../../devices/vda/vda2", "254:2", "2");
    device("vdb", "../../devices/vdb", "254:16", "");
    // vda: GPT with two entries ("root" and "data"), unique GUIDs 11111111-... and 22222222-...
    std::vector<uint8_t> disk(kIdentityBytes, 0);
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk[446 + 4] = 0xEE;
    std::memcpy(&disk[512], "EFI PART", 8);
    disk[512 + 72] = 2;
    disk[512 + 80] = 128;
    disk[512 + 84] = 128;
    for (int i = 0; i < 2; ++i) {
      const size_t e = 1024 + 128 * i;
      disk[e] = 0xaf;
      std::memset(&disk[e + 16], i == 0 ? 0x11 : 0x22, 16);
      const char* name = i == 0 ? "root" : "data";
      for (size_t k = 0; name[k]; ++k) put16(disk, e + 56 + 2 * k, static_cast<uint16_t>(name[k]));
    }
    write_bytes(dev + "/vda", disk);
    std::vector<uint8_t> ext4(kIdentityBytes, 0);
    put16(ext4, 1024 + 0x38, 0xEF53);
    std::memset(&ext4[1024 + 0x68], 0xab, 16);
    std::memcpy(&ext4[1024 + 0x78], "debian-root", 11);
    write_bytes(dev + "/vda1", ext4);
    std::vector<uint8_t> btrfs(kIdentityBytes, 0);
    std::memcpy(&btrfs[65536 + 0x40], "_BHRfS_M", 8);
    std::memset(&btrfs[65536 + 0x20], 0xcd, 16);
    std::memcpy(&btrfs[65536 + 0x12b], "pool", 4);
    write_bytes(dev + "/vda2", btrfs);
    write_bytes(dev + "/vdb", std::vector<uint8_t>(4096, 0));
  }
  void TearDown() override { std::system(("rm -rf " + top).c_str()); }

  void device(const std::string& name, const std::string& target, const std::string& devnum, const std::string& part) {
    ASSERT_EQ(::symlink(target.c_str(), (sys + "/" + name).c_str()), 0);
    const std::string real = top + "/sys/devices/" + target.substr(std::string("../../devices/").size());
    write_text(real + "/dev", devnum + "\n");
    if (!part.empty()) write_text(real + "/partition", part + "\n");
  }

  root_options root_from(const char* line) {
    root_options r;
    const char* eq = std::strchr(line, '=');
    bool bad = false;
    EXPECT_TRUE(apply_root_word(line, static_cast<size_t>(eq - line), eq + 1, std::strlen(eq + 1), r, &bad));
    EXPECT_FALSE(bad) << line;
    return r;
  }

  std::string find(const char* line, std::string* fstype = nullptr, std::string* why_out = nullptr) {
    root_device d;
    char why[160] = {};
    if (!find_root_device(root_from(line), sys.c_str(), dev.c_str(), d, why, sizeof why)) {
      if (why_out) *why_out = why;
      return "";
    }
    if (fstype) *fstype = d.fstype;
    return std::string(d.path).substr(dev.size());
  }

  std::string top, sys, dev;
};

}  // namespace

TEST_F(RootDevice, ByNameAndByNumber) {
  std::string type;
  EXPECT_EQ(find("root=/dev/vda1", &type), "/vda1");
  EXPECT_EQ(type, "ext4") << "the superblock is read for the file system's module";
  EXPECT_EQ(find("root=254:2", &type), "/vda2");
  EXPECT_EQ(type, "btrfs");
  EXPECT_EQ(find("root=fe10", &type), "/vdb") << "hex 0xfe10: major 254, minor 16";
  EXPECT_EQ(type, "") << "nothing recognisable on it: every file system module is tried";
}

TEST_F(RootDevice, ByFilesystemUuidAndLabel) {
  std::string type;
  EXPECT_EQ(find("root=UUID=abababab-abab-abab-abab-abababababab", &type), "/vda1");
  EXPECT_EQ(type, "ext4");
  EXPECT_EQ(find("root=UUID=CDCDCDCD-CDCD-CDCD-CDCD-CDCDCDCDCDCD", &type), "/vda2");
  EXPECT_EQ(type, "btrfs");
  EXPECT_EQ(find("root=LABEL=debian-root"), "/vda1");
  EXPECT_EQ(find("root=/dev/disk/by-label/pool"), "/vda2") << "udev's links, read without udev";
}

TEST_F(RootDevice, ByPartitionUuidAndName) {
  EXPECT_EQ(find("root=PARTUUID=11111111-1111-1111-1111-111111111111"), "/vda1");
  EXPECT_EQ(find("root=PARTUUID=22222222-2222-2222-2222-222222222222"), "/vda2");
  EXPECT_EQ(find("root=PARTLABEL=data"), "/vda2");
  EXPECT_EQ(find("root=/dev/disk/by-partuuid/11111111-1111-1111-1111-111111111111"), "/vda1");
}

TEST_F(RootDevice, NothingMatchingSaysWhatWasLookedFor) {
  std::string why;
  EXPECT_EQ(find("root=/dev/sda1", nullptr, &why), "");
  EXPECT_EQ(why, "no block device matches root=/dev/sda1");
  EXPECT_EQ(find("root=UUID=00000000-0000-0000-0000-000000000000", nullptr, &why), "");
  EXPECT_EQ(why, "no block device matches root=UUID=00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(find("root=LABEL=nope", nullptr, &why), "");
  EXPECT_EQ(why, "no block device matches root=LABEL=nope");
  EXPECT_EQ(find("root=PARTUUID=11111111-1111-1111-1111-000000000000", nullptr, &why), "");
  EXPECT_EQ(why, "no block device matches root=PARTUUID=11111111-1111-1111-1111-000000000000");
  root_device d;
  char buf[160];
  EXPECT_FALSE(find_root_device(root_options{}, sys.c_str(), dev.c_str(), d, buf, sizeof buf));
  EXPECT_STREQ(buf, "no root= on the kernel command line");
  EXPECT_FALSE(find_root_device(root_from("root=/dev/vda1"), (top + "/none").c_str(), dev.c_str(), d, buf, sizeof buf));
}
