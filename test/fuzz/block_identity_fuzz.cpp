// libFuzzer target: what PID 1 reads from a block device it does not trust (an initramfs looks at every disk to
// find root=): superblocks and partition tables, the kernel command line's root words, and modules.dep. No read may leave
// the buffer, and what is found must be printable.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pid1/block_identity.hpp"
#include "pid1/kernel_cmdline.hpp"
#include "pid1/module_deps.hpp"

using namespace dynamod::init;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fs_identity fs;
  if (identify_filesystem(data, size, fs)) {
    if (std::strlen(fs.label) >= sizeof fs.label) __builtin_trap();
    for (const char* p = fs.label; *p; ++p) {
      if (static_cast<unsigned char>(*p) < 0x20) __builtin_trap();
    }
  }
  static const uint32_t kNumbers[] = {1, 2, 4, 5, 128, 129, 0xffffffff};
  for (uint32_t number : kNumbers) {
    partition_identity part;
    if (identify_partition(data, size, number, part)) {
      if (std::strlen(part.partuuid) > 36 || std::strlen(part.name) >= sizeof part.name) __builtin_trap();
    }
  }
  init_options options;
  cmdline_warnings warnings;
  parse_kernel_cmdline(reinterpret_cast<const char*>(data), size < 4096 ? size : 4096, options, warnings);
  if (std::strlen(options.root.value) >= sizeof options.root.value) __builtin_trap();
  module_path order[8];
  const size_t n = module_load_order(reinterpret_cast<const char*>(data), size, "ext4", order, 8);
  for (size_t i = 0; i < n && i < 8; ++i) {
    if (order[i].path < reinterpret_cast<const char*>(data) ||
        order[i].path + order[i].len > reinterpret_cast<const char*>(data) + size) {
      __builtin_trap();
    }
    (void)is_filesystem_module(reinterpret_cast<const char*>(data), size, order[i].path, order[i].len);
  }
  return 0;
}
