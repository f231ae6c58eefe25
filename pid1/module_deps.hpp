// Which kernel modules to load, in which order, for one module: read from depmod's modules.dep, whose line for
// a module lists every module it needs, each needing only those listed after it (modprobe loads the list from
// its end, then the module). Pure and heap-free: the answer points into the text it was given.
#pragma once

#include <cstddef>

namespace dynamod::init {

struct module_path {
  const char* path = nullptr;  // relative to /lib/modules/<release>/, e.g. "kernel/fs/ext4/ext4.ko"
  size_t len = 0;
};

// Calls fn(path, path_len, deps, deps_len) for each "path: dependencies" line of modules.dep text, in order, until
// fn returns false. Lines without a colon are skipped; the last line needs no newline.
template <class Fn>
void for_each_dep_line(const char* text, size_t len, Fn&& fn) {
  for (size_t line = 0; line < len;) {
    size_t eol = line;
    while (eol < len && text[eol] != '\n') ++eol;
    size_t colon = line;
    while (colon < eol && text[colon] != ':') ++colon;
    if (colon < eol && !fn(text + line, colon - line, text + colon + 1, eol - colon - 1)) return;
    line = eol + 1;
  }
}

// Fills `out` with the paths to load for `module` ("virtio_blk"; '-' and '_' are the same, as for modprobe),
// dependencies first, the module itself last. Returns how many, 0 if the module is not in the text, or
// max + 1 if `out` is too small.
size_t module_load_order(const char* dep_text, size_t len, const char* module, module_path* out, size_t max);

// True if the module at `path` (as modules.dep names it) is a file system ("kernel/fs/...") or something only a
// file system line lists as a dependency (btrfs' raid6_pq, whose load benchmarks the CPU for a while): the
// initramfs loads those only for the root's own type, once the device is found and its superblock read.
bool is_filesystem_module(const char* dep_text, size_t len, const char* path, size_t path_len);

}  // namespace dynamod::init
