// Loads the kernel modules an initramfs carries: every module listed in its
// /lib/modules/<release>/modules.dep, each after the modules it needs (module_deps), by finit_module(2).
// Heap-free: modules.dep is read into a fixed buffer. A module that fails to load is reported and skipped; the
// root device search that follows says what is then missing.
#pragma once

#include <cstddef>

namespace dynamod::init {

struct module_load_report {
  size_t loaded = 0;   // newly loaded
  size_t present = 0;  // already in the kernel (built in, or loaded before: EEXIST)
  size_t failed = 0;
};

enum class module_set {
  drivers,      // everything but the file systems (is_filesystem_module): what finds the root device
  filesystems,  // the file systems not loaded yet: when the root's type is not known
};

// `modules_root` is normally "/lib/modules"; the running kernel's release is appended.
module_load_report load_initramfs_modules(const char* modules_root, module_set which);
// One module and what it needs ("ext4": crc16, mbcache, jbd2, ext4). `present` counts a module already there.
module_load_report load_initramfs_module(const char* modules_root, const char* name);

}  // namespace dynamod::init
