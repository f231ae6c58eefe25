#include "pid1/root_device.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pid1/block_identity.hpp"
#include "pid1/dir_entries.hpp"
#include "pid1/file_io.hpp"

namespace dynamod::init {

namespace {

// Joins up to three parts with '/' into `out`; false if it does not fit.
bool join(char* out, size_t cap, const char* a, const char* b, const char* c = nullptr) {
  const int n = c ? std::snprintf(out, cap, "%s/%s/%s", a, b, c) : std::snprintf(out, cap, "%s/%s", a, b);
  return n > 0 && static_cast<size_t>(n) < cap;
}

void say(char* why, size_t len, const char* what, const char* value) {
  if (why && len) std::snprintf(why, len, "%s%s", what, value);
}

// Reads up to kIdentityBytes of a device node (or any file: the tests use images). Returns the count, or 0.
size_t read_head(const char* path, uint8_t* buf) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return 0;
  size_t got = 0;
  while (got < kIdentityBytes) {
    const ssize_t n = ::pread(fd, buf + got, kIdentityBytes - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return got;
}

// The disk a partition belongs to: /sys/class/block/vda1 links to .../block/vda/vda1.
bool parent_disk(const char* sys_class_block, const char* name, char* out, size_t cap) {
  char link[256];
  char target[512];
  if (!join(link, sizeof link, sys_class_block, name)) return false;
  const ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  char* last = std::strrchr(target, '/');
  if (!last) return false;
  *last = '\0';
  const char* parent = std::strrchr(target, '/');
  parent = parent ? parent + 1 : target;
  if (*parent == '\0' || std::strlen(parent) >= cap) return false;
  std::memcpy(out, parent, std::strlen(parent) + 1);
  return true;
}

// A small sysfs attribute of a block device (dev, partition), without its newline.
bool attribute(const char* sys_class_block, const char* name, const char* attr, char* out, size_t cap) {
  char path[256];
  if (!join(path, sizeof path, sys_class_block, name, attr)) return false;
  const long n = read_file(path, out, cap);
  if (n <= 0) return false;
  size_t len = static_cast<size_t>(n);
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' ')) --len;
  out[len] = '\0';
  return len > 0;
}

bool ascii_iequal(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    const char x = (*a >= 'A' && *a <= 'Z') ? static_cast<char>(*a + 32) : *a;
    const char y = (*b >= 'A' && *b <= 'Z') ? static_cast<char>(*b + 32) : *b;
    if (x != y) return false;
  }
  return *a == *b;
}

// Does block device `name` match root=? Fills fstype when its superblock was read.
bool matches(const root_options& root, const char* sys_class_block, const char* dev_dir, const char* name,
             char (&fstype)[8]) {
  static uint8_t head[kIdentityBytes];
  char path[256];
  fstype[0] = '\0';
  switch (root.kind) {
    case root_kind::path: {
      const char* base = std::strrchr(root.value, '/');
      return base && std::strcmp(base + 1, name) == 0;
    }
    case root_kind::devnum: {
      char dev[32];
      char want[32];
      std::snprintf(want, sizeof want, "%u:%u", root.major, root.minor);
      return attribute(sys_class_block, name, "dev", dev, sizeof dev) && std::strcmp(dev, want) == 0;
    }
    case root_kind::uuid:
    case root_kind::label: {
      if (!join(path, sizeof path, dev_dir, name)) return false;
      fs_identity fs;
      if (!identify_filesystem(head, read_head(path, head), fs)) return false;
      const bool hit = root.kind == root_kind::uuid ? uuid_matches(root.value, fs.uuid)
                                                     : std::strcmp(root.value, fs.label) == 0;
      if (hit) std::memcpy(fstype, fs.type, sizeof fstype);
      return hit;
    }
    case root_kind::partuuid:
    case root_kind::partlabel: {
      char number_text[16];
      char disk[64];
      if (!attribute(sys_class_block, name, "partition", number_text, sizeof number_text)) return false;
      if (!parent_disk(sys_class_block, name, disk, sizeof disk) || !join(path, sizeof path, dev_dir, disk)) {
        return false;
      }
      uint32_t number = 0;
      for (const char* p = number_text; *p; ++p) {
        if (*p < '0' || *p > '9' || number > 100000) return false;
        number = number * 10 + static_cast<uint32_t>(*p - '0');
      }
      partition_identity part;
      if (!identify_partition(head, read_head(path, head), number, part)) return false;
      return root.kind == root_kind::partuuid ? ascii_iequal(root.value, part.partuuid)
                                              : std::strcmp(root.value, part.name) == 0;
    }
    case root_kind::none:
      return false;
  }
  return false;
}

}  // namespace

bool find_root_device(const root_options& root, const char* sys_class_block, const char* dev_dir, root_device& out,
                      char* why, size_t why_len) {
  if (root.kind == root_kind::none) {
    say(why, why_len, "no root= on the kernel command line", "");
    return false;
  }
  static char dents[8192];
  const int dir = ::open(sys_class_block, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    say(why, why_len, "cannot list block devices in ", sys_class_block);
    return false;
  }
  bool found = false;
  for_each_dir_entry(dir, dents, sizeof dents, [&](const char* name) {
    if (name[0] == '.') return true;
    char fstype[8];
    if (!matches(root, sys_class_block, dev_dir, name, fstype)) return true;
    root_device r;
    if (!join(r.path, sizeof r.path, dev_dir, name)) return true;
    if (fstype[0] == '\0') {
      // Named by path, number or partition: its superblock says which file system (and module) it needs.
      static uint8_t head[kIdentityBytes];
      fs_identity fs;
      if (identify_filesystem(head, read_head(r.path, head), fs)) std::memcpy(fstype, fs.type, sizeof fstype);
    }
    std::memcpy(r.fstype, fstype, sizeof r.fstype);
    out = r;
    found = true;
    return false;
  });
  ::close(dir);
  if (!found) {
    // As it was written: root=UUID=..., so the user sees which word of the command line to fix.
    const char* prefix = root.kind == root_kind::uuid       ? "no block device matches root=UUID="
                         : root.kind == root_kind::partuuid  ? "no block device matches root=PARTUUID="
                         : root.kind == root_kind::label     ? "no block device matches root=LABEL="
                         : root.kind == root_kind::partlabel ? "no block device matches root=PARTLABEL="
                                                             : "no block device matches root=";
    say(why, why_len, prefix, root.value);
  }
  return found;
}

}  // namespace dynamod::init
