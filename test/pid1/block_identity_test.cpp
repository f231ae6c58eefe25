// Identifying the root device without udev: ext4 and btrfs superblocks, GPT and MBR partition tables, built
// here byte by byte, then truncated and corrupted: a hostile or short image is "not found", never a read out
// of bounds (the sanitizer pass runs these too).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pid1/block_identity.hpp"

using namespace dynamod::init;

namespace {

const uint8_t kUuid[16] = {0x3e, 0x6b, 0xe9, 0xde, 0x81, 0x39, 0x11, 0xd1,
                           0x91, 0x06, 0xa4, 0x3f, 0x08, 0xd8, 0x23, 0xa6};

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = v & 0xff;
  b[at + 1] = v >> 8;
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = (v >> (8 * i)) & 0xff;
}
void put64(std::vector<uint8_t>& b, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = (v >> (8 * i)) & 0xff;
}

std::vector<uint8_t> ext4_image(const char* label) {
  std::vector<uint8_t> b(kIdentityBytes, 0);
  put16(b, 1024 + 0x38, 0xEF53);
  std::memcpy(&b[1024 + 0x68], kUuid, 16);
  std::memcpy(&b[1024 + 0x78], label, std::strlen(label));  // 16 bytes at most, NUL-padded
  return b;
}

std::vector<uint8_t> btrfs_image(const char* label) {
  std::vector<uint8_t> b(kIdentityBytes, 0);
  std::memcpy(&b[65536 + 0x40], "_BHRfS_M", 8);
  std::memcpy(&b[65536 + 0x20], kUuid, 16);
  std::memcpy(&b[65536 + 0x12b], label, std::strlen(label));
  return b;
}

// A disk with a GPT (512-byte sectors): entries at LBA 2, partition 1 "root", partition 2 unused.
std::vector<uint8_t> gpt_disk() {
  std::vector<uint8_t> b(512 * 2 + 128 * 128, 0);
  b[510] = 0x55;
  b[511] = 0xAA;
  b[446 + 4] = 0xEE;  // protective MBR
  std::memcpy(&b[512], "EFI PART", 8);
  put64(b, 512 + 72, 2);
  put32(b, 512 + 80, 128);
  put32(b, 512 + 84, 128);
  const size_t e = 1024;
  b[e] = 0xaf;  // a type GUID (anything not zero)
  // unique GUID 3e6be9de-8139-11d1-9106-a43f08d823a6, stored with its first three fields little-endian
  const uint8_t stored[16] = {0xde, 0xe9, 0x6b, 0x3e, 0x39, 0x81, 0xd1, 0x11,
                              0x91, 0x06, 0xa4, 0x3f, 0x08, 0xd8, 0x23, 0xa6};
  std::memcpy(&b[e + 16], stored, 16);
  const char* name = "root";
  for (size_t i = 0; name[i]; ++i) put16(b, e + 56 + 2 * i, static_cast<uint16_t>(name[i]));
  return b;
}

std::vector<uint8_t> mbr_disk() {
  std::vector<uint8_t> b(512, 0);
  put32(b, 440, 0x0a1b2c3d);
  b[446 + 4] = 0x83;       // partition 1: Linux
  b[446 + 16 + 4] = 0x82;  // partition 2: swap
  b[510] = 0x55;
  b[511] = 0xAA;
  return b;
}

}  // namespace

void expect_identity(const std::vector<uint8_t>& img, const char* type, const char* label) {
  fs_identity id;
  ASSERT_TRUE(identify_filesystem(img.data(), img.size(), id)) << type;
  EXPECT_STREQ(id.type, type);
  EXPECT_EQ(std::memcmp(id.uuid, kUuid, 16), 0);
  EXPECT_STREQ(id.label, label);
}

TEST(FilesystemIdentity, Ext4AndBtrfsUuidAndLabel) {
  expect_identity(ext4_image("debian-root"), "ext4", "debian-root");
  expect_identity(btrfs_image("btrfs-root"), "btrfs", "btrfs-root");
}

TEST(FilesystemIdentity, LabelsThatFillTheirFieldAreCutThere) {
  // ext4: 16 bytes with no NUL: still 16 characters, nothing of what follows
  auto ext4 = ext4_image("0123456789abcdef");
  ext4[1024 + 0x88] = 'X';
  expect_identity(ext4, "ext4", "0123456789abcdef");
  // btrfs: 256 bytes with no NUL are cut at 255, and control bytes cannot reach the console
  auto btrfs = btrfs_image("");
  std::memset(&btrfs[65536 + 0x12b], 'L', 256);
  btrfs[65536 + 0x12b] = '\033';
  fs_identity id;
  ASSERT_TRUE(identify_filesystem(btrfs.data(), btrfs.size(), id));
  EXPECT_EQ(std::strlen(id.label), 255u);
  EXPECT_EQ(id.label[0], '?');
}

TEST(FilesystemIdentity, TruncatedOrForeignDataIsNotAFilesystem) {
  fs_identity id;
  auto ext4 = ext4_image("x");
  EXPECT_FALSE(identify_filesystem(ext4.data(), 1024 + 0x39, id)) << "superblock cut short";
  EXPECT_FALSE(identify_filesystem(ext4.data(), 0, id));
  EXPECT_FALSE(identify_filesystem(nullptr, 100, id));
  auto btrfs = btrfs_image("x");
  EXPECT_FALSE(identify_filesystem(btrfs.data(), 65536 + 0x48, id)) << "btrfs superblock cut short";
  std::vector<uint8_t> zeros(kIdentityBytes, 0);
  EXPECT_FALSE(identify_filesystem(zeros.data(), zeros.size(), id));
  std::vector<uint8_t> ones(kIdentityBytes, 0xff);
  EXPECT_FALSE(identify_filesystem(ones.data(), ones.size(), id));
}

TEST(PartitionIdentity, GptEntryGivesPartuuidAndName) {
  auto disk = gpt_disk();
  partition_identity p;
  ASSERT_TRUE(identify_partition(disk.data(), disk.size(), 1, p));
  EXPECT_STREQ(p.partuuid, "3e6be9de-8139-11d1-9106-a43f08d823a6");
  EXPECT_STREQ(p.name, "root");
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 2, p)) << "an unused entry";
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 0, p));
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 129, p)) << "beyond the table";
}

TEST(PartitionIdentity, HostileGptHeadersAreRefused) {
  partition_identity p;
  auto disk = gpt_disk();
  EXPECT_FALSE(identify_partition(disk.data(), 1024 + 16, 1, p)) << "entries cut off";
  auto far = gpt_disk();
  put64(far, 512 + 72, UINT64_MAX / 2);  // entries "somewhere" far beyond the buffer
  EXPECT_FALSE(identify_partition(far.data(), far.size(), 1, p));
  auto huge = gpt_disk();
  put32(huge, 512 + 80, UINT32_MAX);
  put32(huge, 512 + 84, UINT32_MAX);  // entry size beyond any sane value
  EXPECT_FALSE(identify_partition(huge.data(), huge.size(), 1000000, p));
  auto small = gpt_disk();
  put32(small, 512 + 84, 16);  // entries smaller than an entry
  EXPECT_FALSE(identify_partition(small.data(), small.size(), 1, p));
  auto count = gpt_disk();
  put32(count, 512 + 80, 200);  // more entries than the buffer holds: the last ones are not found
  EXPECT_FALSE(identify_partition(count.data(), count.size(), 200, p));
  EXPECT_TRUE(identify_partition(count.data(), count.size(), 1, p));
}

TEST(PartitionIdentity, MbrPartuuidIsSignatureAndNumber) {
  auto disk = mbr_disk();
  partition_identity p;
  ASSERT_TRUE(identify_partition(disk.data(), disk.size(), 1, p));
  EXPECT_STREQ(p.partuuid, "0a1b2c3d-01");
  ASSERT_TRUE(identify_partition(disk.data(), disk.size(), 2, p));
  EXPECT_STREQ(p.partuuid, "0a1b2c3d-02");
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 3, p)) << "type 0: unused";
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 5, p)) << "logical partitions are not read";
  EXPECT_FALSE(identify_partition(disk.data(), 511, 1, p)) << "cut before the boot signature";
  disk[511] = 0;
  EXPECT_FALSE(identify_partition(disk.data(), disk.size(), 1, p)) << "no boot signature";
  auto prot = gpt_disk();
  std::memset(&prot[512], 0, 8);  // protective MBR but the GPT header is gone
  EXPECT_FALSE(identify_partition(prot.data(), prot.size(), 1, p));
}
