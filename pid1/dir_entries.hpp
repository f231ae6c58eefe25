// Walking a directory without the heap (opendir allocates): getdents64 into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/syscall.h>
#include <unistd.h>

namespace dynamod::init {

// Calls fn(name) for every entry of the open directory `dir_fd` but "." and "..", until fn returns false.
// `buffer` (a static one, or a small one on the stack in a recursion) is reused for each batch of entries.
template <class Fn>
void for_each_dir_entry(int dir_fd, char* buffer, size_t capacity, Fn&& fn) {
  struct raw_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
  };
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir_fd, buffer, capacity);
    if (n <= 0) return;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const raw_dirent64*>(buffer + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      if (!fn(name)) return;
    }
  }
}

}  // namespace dynamod::init
