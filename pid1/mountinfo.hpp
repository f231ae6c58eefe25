// Parsing /proc/self/mountinfo without allocation: PID 1 uses it to skip filesystems that are already
// mounted and to unmount everything in reverse order at shutdown. The file has no size bound (a host with
// containers has thousands of mounts), so it is streamed through a fixed buffer, and the shutdown unmounts
// the newest mounts in passes (`unmount_tail`) instead of holding the whole table.
#pragma once

#include <cstddef>

namespace dynamod::init {

// Paths and sources up to PATH_MAX (the kernel's own bound for mount(2) arguments).
struct mount_entry {
  static constexpr size_t kPathCapacity = 4096;
  int id = 0;
  int parent_id = 0;
  char mount_point[kPathCapacity] = {};  // unescaped (\040 -> ' ')
  char fstype[64] = {};
  char source[kPathCapacity] = {};
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

// Reads mountinfo through a caller's buffer, one line at a time: nothing is cut however long the file is.
// A line longer than the buffer is skipped and counted. `read` returns bytes read, 0 at the end, -errno.
class mountinfo_stream {
 public:
  using read_fn = long (*)(void* context, char* buffer, size_t capacity);
  mountinfo_stream(char* buffer, size_t capacity, read_fn read, void* context)
      : buffer_(buffer), capacity_(capacity), read_(read), context_(context) {}
  bool next(mount_entry& out);
  size_t malformed_lines() const { return malformed_; }
  size_t overlong_lines() const { return overlong_; }
  int error() const { return error_; }  // errno of a failed read (the stream then ends), else 0

 private:
  char* buffer_;
  size_t capacity_;
  read_fn read_;
  void* context_;
  size_t start_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool skipping_ = false;  // discarding the rest of an overlong line
  size_t malformed_ = 0;
  size_t overlong_ = 0;
  int error_ = 0;
};

// A read_fn over a file descriptor passed as `context` (an int*).
long read_fd_chunk(void* context, char* buffer, size_t capacity);

// The newest mounts still to unmount at shutdown, collected in one pass over mountinfo: the last
// kCapacity entries other than "/" and those already tried without success. The caller unmounts them
// newest first and makes another pass until one collects nothing; every pass unmounts or gives up on at
// least one entry, so the passes end.
class unmount_tail {
 public:
  static constexpr size_t kCapacity = 64;
  static constexpr size_t kMaxGivenUp = 1024;

  void begin_pass() { count_ = 0; head_ = 0; }
  void offer(const mount_entry& e);
  size_t size() const { return count_; }
  // i = 0 is the newest entry of the pass.
  const char* mount_point(size_t i) const { return slot(i).mount_point; }
  int id(size_t i) const { return slot(i).id; }
  // An entry that cannot be unmounted: later passes skip it. False when the table is full (stop then).
  bool give_up(int id);
  bool given_up(int id) const;
  size_t given_up_count() const { return given_up_count_; }

 private:
  struct entry {
    int id;
    char mount_point[mount_entry::kPathCapacity];
  };
  const entry& slot(size_t i) const { return entries_[(head_ + kCapacity - 1 - i) % kCapacity]; }
  entry entries_[kCapacity];
  size_t head_ = 0;  // next slot to write
  size_t count_ = 0;
  int given_up_[kMaxGivenUp] = {};
  size_t given_up_count_ = 0;
};

bool parse_mountinfo_line(const char* line, size_t length, mount_entry& out);

// True if `path` is a mount point in the given mountinfo text.
bool is_mount_point(const char* mountinfo, size_t length, const char* path);

}  // namespace dynamod::init
