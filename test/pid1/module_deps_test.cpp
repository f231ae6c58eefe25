// The load order of a kernel module and what it needs, from Debian 12's modules.dep lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pid1/module_deps.hpp"

using namespace dynamod::init;

namespace {

const std::string kDep =
    "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
    "kernel/fs/btrfs/btrfs.ko: kernel/crypto/xor.ko kernel/lib/raid6/raid6_pq.ko kernel/lib/zstd/zstd_compress.ko "
    "kernel/lib/libcrc32c.ko\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio.ko:\n"
    "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n"
    "kernel/drivers/hid/hid-generic.ko: kernel/drivers/hid/hid.ko";  // no final newline

std::vector<std::string> order(const std::string& module, size_t max = 16) {
  std::vector<module_path> out(max);
  const size_t n = module_load_order(kDep.data(), kDep.size(), module.c_str(), out.data(), max);
  std::vector<std::string> paths;
  if (n > max) return {"overflow"};
  for (size_t i = 0; i < n; ++i) paths.emplace_back(out[i].path, out[i].len);
  return paths;
}

}  // namespace

TEST(ModuleDeps, DependenciesFirstInReverseOfTheirListing) {
  EXPECT_EQ(order("virtio_blk"), (std::vector<std::string>{"kernel/drivers/virtio/virtio_ring.ko",
                                                             "kernel/drivers/virtio/virtio.ko",
                                                             "kernel/drivers/block/virtio_blk.ko"}));
  EXPECT_EQ(order("ext4"), (std::vector<std::string>{"kernel/fs/jbd2/jbd2.ko", "kernel/fs/mbcache.ko",
                                                       "kernel/lib/crc16.ko", "kernel/fs/ext4/ext4.ko"}));
  EXPECT_EQ(order("virtio"), (std::vector<std::string>{"kernel/drivers/virtio/virtio.ko"})) << "no dependencies";
}

TEST(ModuleDeps, DashAndUnderscoreAreTheSameAndALastLineWithoutNewlineCounts) {
  EXPECT_EQ(order("hid_generic"), (std::vector<std::string>{"kernel/drivers/hid/hid.ko",
                                                              "kernel/drivers/hid/hid-generic.ko"}));
  EXPECT_EQ(order("virtio-blk").size(), 3u);
}

TEST(ModuleDeps, UnknownModulesAndSmallBuffersAreReported) {
  EXPECT_TRUE(order("nvme").empty());
  EXPECT_TRUE(order("virtio_bl").empty()) << "a prefix is not a match";
  EXPECT_TRUE(order("ext").empty());
  EXPECT_EQ(order("btrfs", 3), (std::vector<std::string>{"overflow"}));
  EXPECT_EQ(order("btrfs", 5).size(), 5u);
  std::vector<module_path> out(4);
  EXPECT_EQ(module_load_order("", 0, "ext4", out.data(), 4), 0u);
  const std::string junk = ":::\n\n : x\nkernel/a.ko:   \t\n";
  EXPECT_EQ(module_load_order(junk.data(), junk.size(), "a", out.data(), 4), 1u);
}

TEST(ModuleDeps, FileSystemsAndWhatOnlyTheyNeedWaitForTheRootsType) {
  const std::string dep =
      "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/lib/shared.ko\n"
      "kernel/lib/shared.ko:\n"
      "kernel/lib/raid6/raid6_pq.ko:\n"
      "kernel/crypto/crc32c_generic.ko:\n"
      "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko\n"
      "kernel/fs/btrfs/btrfs.ko: kernel/lib/raid6/raid6_pq.ko kernel/lib/shared.ko\n"
      "kernel/lib/crc16.ko:";
  auto fs = [&](const std::string& path) {
    return dynamod::init::is_filesystem_module(dep.data(), dep.size(), path.data(), path.size());
  };
  EXPECT_TRUE(fs("kernel/fs/ext4/ext4.ko"));
  EXPECT_TRUE(fs("kernel/fs/jbd2/jbd2.ko"));
  EXPECT_TRUE(fs("kernel/lib/raid6/raid6_pq.ko")) << "only btrfs needs it";
  EXPECT_TRUE(fs("kernel/lib/crc16.ko")) << "the last line, without a newline, is read too";
  EXPECT_FALSE(fs("kernel/lib/shared.ko")) << "a driver needs it as well";
  EXPECT_FALSE(fs("kernel/drivers/block/virtio_blk.ko"));
  EXPECT_FALSE(fs("kernel/crypto/crc32c_generic.ko")) << "nobody lists it: loaded with the drivers";
  EXPECT_FALSE(fs("kernel/fs")) << "a prefix is not a path under it";
}
