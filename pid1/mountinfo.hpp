// Parsing /proc/self/mountinfo without allocation: PID 1 uses it to skip filesystems that are already
// mounted and to unmount everything in reverse order at shutdown.
#pragma once

#include <cstddef>

namespace dynamod::init {

struct mount_entry {
  int id = 0;
  int parent_id = 0;
  char mount_point[256] = {};  // unescaped (\040 -> ' ')
  char fstype[32] = {};
  char source[128] = {};
};

// Walks the lines of a mountinfo buffer. Malformed lines are skipped and counted.
class mountinfo_parser {
 public:
  mountinfo_parser(const char* text, size_t length) : text_(text), length_(length) {}
  bool next(mount_entry& out);
  size_t malformed_lines() const { return malformed_; }

 private:
  const char* text_;
  size_t length_;
  size_t pos_ = 0;
  size_t malformed_ = 0;
};

bool parse_mountinfo_line(const char* line, size_t length, mount_entry& out);

// True if `path` is a mount point in the given mountinfo text.
bool is_mount_point(const char* mountinfo, size_t length, const char* path);

}  // namespace dynamod::init
