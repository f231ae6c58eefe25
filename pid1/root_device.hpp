// Finding the device root= names, in the initramfs, without udev: every block device the kernel lists under
// /sys/class/block, its node in devtmpfs, and (for UUID=, LABEL=, PARTUUID=, PARTLABEL=) its first bytes
// (block_identity). One look, no waiting: the caller polls for rootwait. Heap-free: fixed buffers,
// getdents64 (opendir allocates). The directories are parameters so tests can hand it a fake tree.
#pragma once

#include <cstddef>

#include "pid1/root_options.hpp"

namespace dynamod::init {

struct root_device {
  char path[128] = {};   // the node to mount, e.g. /dev/vda1
  char fstype[8] = {};   // what its superblock says ("ext4", "btrfs"), or empty when not looked at
};

// True with `out` filled when the device exists now. Otherwise false, and `why` (NUL-terminated) says what
// was looked for and not found.
bool find_root_device(const root_options& root, const char* sys_class_block, const char* dev_dir, root_device& out,
                      char* why, size_t why_len);

}  // namespace dynamod::init
