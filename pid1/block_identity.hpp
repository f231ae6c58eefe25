// What a block device is, read from its first bytes without udev or libblkid: the file system (ext2/3/4 or
// btrfs superblock: type, UUID, label) and the partition table (GPT entries or MBR: the PARTUUID and name
// of partition N). Pure: every function reads only the buffer it is given, checks every offset against
// its length, and accepts truncated, hostile or foreign data by answering "not found".
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynamod::init {

// Enough of a device to see both superblocks (btrfs' primary copy is at 64 KiB).
constexpr size_t kIdentityBytes = 65536 + 4096;

struct fs_identity {
  char type[8] = {};      // "ext4" (ext2/3 too: they mount as ext4), "btrfs"
  uint8_t uuid[16] = {};
  char label[256] = {};   // NUL-terminated, at most 255 bytes (btrfs); ext4's is at most 16
};

// The file system in `data` (the device's first `len` bytes). False if none is recognised.
bool identify_filesystem(const uint8_t* data, size_t len, fs_identity& out);

struct partition_identity {
  char partuuid[37] = {};  // GPT: the entry's unique GUID; MBR: "xxxxxxxx-NN" (disk signature, partition number)
  char name[73] = {};      // GPT partition name (UTF-16LE, kept if ASCII); empty for MBR
};

// Partition number `number` (1-based, as /sys/class/block/<part>/partition says) of the disk whose first bytes
// are `data`. GPT (with 512- or 4096-byte sectors, entries within the buffer) or MBR primary partitions.
// `data` must hold the GPT entries: 512 + 512 + 128 * 128 bytes cover the usual table.
bool identify_partition(const uint8_t* data, size_t len, uint32_t number, partition_identity& out);

}  // namespace dynamod::init
