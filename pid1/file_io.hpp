// Small checked wrappers around the file syscalls PID 1 needs. All return 0 / a size on success and
// -errno on failure, never throw and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace dynamod::init {

// Reads at most capacity-1 bytes and NUL-terminates. Returns the byte count or -errno.
long read_file(const char* path, char* buffer, size_t capacity);
// Creates or truncates `path` and writes `data` completely. Returns 0 or -errno.
int write_file(const char* path, const void* data, size_t size, mode_t mode);
// Writes a whole buffer to an fd, retrying on EINTR and short writes. Returns 0 or -errno.
int write_all(int fd, const void* data, size_t size);
// mkdir -p. Returns 0 or -errno.
int make_directories(const char* path, mode_t mode);
uint64_t monotonic_ms();
// Sleeps `ms` milliseconds, resuming after signals.
void sleep_ms(uint32_t ms);

}  // namespace dynamod::init
