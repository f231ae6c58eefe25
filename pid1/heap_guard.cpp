#include "pid1/heap_guard.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace {

constexpr size_t kArenaSize = 128 * 1024;
constexpr size_t kAlign = 16;
alignas(kAlign) unsigned char g_arena[kArenaSize];
size_t g_used = 0;
bool g_locked = false;
unsigned long g_violations = 0;

// Each block is preceded by a 16-byte header holding its size, so realloc can copy.
void* bump(size_t size, size_t align) {
  if (g_locked) ++g_violations;
  if (align < kAlign) align = kAlign;
  size_t start = (g_used + kAlign + align - 1) / align * align;  // leave room for the header
  if (size > kArenaSize || start > kArenaSize - size) {
    errno = ENOMEM;
    return nullptr;
  }
  std::memcpy(g_arena + start - kAlign, &size, sizeof size);
  g_used = start + size;
  return g_arena + start;
}

size_t block_size(void* p) {
  size_t n = 0;
  std::memcpy(&n, static_cast<unsigned char*>(p) - kAlign, sizeof n);
  return n;
}

}  // namespace

namespace dynamod::init {
void heap_guard_lock() { g_locked = true; }
unsigned long heap_guard_violations() { return g_violations; }
size_t heap_guard_bytes_used() { return g_used; }
}  // namespace dynamod::init

extern "C" {

void* malloc(size_t size) { return bump(size, kAlign); }

void free(void*) {}  // the arena is never reused: PID 1 allocates only during start-up

void* calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) {
    errno = ENOMEM;
    return nullptr;
  }
  return bump(count * size, kAlign);  // the arena is zero-initialised and never reused
}

void* realloc(void* old, size_t size) {
  void* p = bump(size, kAlign);
  if (p != nullptr && old != nullptr) {
    const size_t n = block_size(old);
    std::memcpy(p, old, n < size ? n : size);
  }
  return p;
}

void* memalign(size_t align, size_t size) { return bump(size, align); }
void* aligned_alloc(size_t align, size_t size) { return bump(size, align); }
int posix_memalign(void** out, size_t align, size_t size) {
  void* p = bump(size, align);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t size) { return bump(size, 4096); }
void* pvalloc(size_t size) { return bump((size + 4095) / 4096 * 4096, 4096); }
size_t malloc_usable_size(void* p) { return p ? block_size(p) : 0; }

}  // extern "C"
