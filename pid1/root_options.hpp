// The kernel command line's words about the root file system, as the initramfs phase needs them:
// root=, rootfstype=, rootflags=, ro, rw, rootwait[=SECONDS], rootdelay=SECONDS, init=. Pure and heap-free:
// fixed buffers, values too long for them are refused (the option keeps its default, with a warning).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynamod::init {

// How root= names the device, as the kernel (and Debian's initramfs) accept it.
enum class root_kind : uint8_t {
  none,       // no root=: no initramfs phase, this is the real root already
  path,       // root=/dev/vda1, matched by name under /sys/class/block
  devnum,     // root=fe01 (hex major/minor, the kernel's old form) or root=254:1
  uuid,       // root=UUID=<filesystem uuid> (or /dev/disk/by-uuid/..., and so on for the three below)
  partuuid,   // root=PARTUUID=<GPT partition guid, or MBR xxxxxxxx-NN>
  label,      // root=LABEL=<filesystem label>
  partlabel,  // root=PARTLABEL=<GPT partition name>
};

struct root_options {
  root_kind kind = root_kind::none;
  char value[128] = {};        // the path, uuid, partuuid, label or partlabel as written (quotes removed)
  uint32_t major = 0, minor = 0;  // devnum
  char fstype[32] = {};        // rootfstype=; empty: try ext4, then btrfs
  char flags[256] = {};        // rootflags=: data for mount(2)
  bool read_write = false;     // rw (ro is the default, as for the kernel)
  bool wait = false;           // rootwait: poll for the device (bounded by wait_ms)
  uint32_t wait_ms = 0;        // rootwait=SECONDS (0 with `wait`: the default bound)
  uint32_t delay_ms = 0;       // rootdelay=SECONDS: sleep once before looking
  char init[256] = {};         // init=: what to exec on the new root (empty: dynamod-init there, else /sbin/init)
};

// The bound of a bare `rootwait`: the kernel waits forever; an init system must reach the emergency shell.
constexpr uint32_t kDefaultRootWaitMs = 30000;

// One word of the command line (key, and value without its surrounding quotes, or null for a flag word).
// Returns false if the word is not about the root; sets *bad when it is but its value is refused.
bool apply_root_word(const char* key, size_t key_len, const char* value, size_t value_len, root_options& root,
                     bool* bad);

// Formats a 16-byte UUID as the usual 36 lowercase characters (plus NUL): out must hold 37.
void format_uuid(const uint8_t uuid[16], char out[37]);
// Case-insensitive comparison of a written UUID (with or without dashes, any case) and raw bytes.
bool uuid_matches(const char* written, const uint8_t uuid[16]);

}  // namespace dynamod::init
