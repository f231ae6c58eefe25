// PID 1 must not allocate after start-up. heap_guard.cpp replaces malloc and friends with a small
// bump allocator over a static arena; once locked, every allocation is counted as a violation (and
// still served, so a stray libc call cannot crash PID 1). PID 1 logs the count at shutdown, and the
// QEMU tests assert it is zero.
#pragma once

#include <cstddef>

namespace dynamod::init {

void heap_guard_lock();
unsigned long heap_guard_violations();
size_t heap_guard_bytes_used();

}  // namespace dynamod::init
