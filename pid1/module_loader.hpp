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

// `modules_root` is normally "/lib/modules"; the running kernel's release is appended.
module_load_report load_initramfs_modules(const char* modules_root);

}  // namespace dynamod::init
