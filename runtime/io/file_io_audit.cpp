#include "runtime/io/file_io_audit.hpp"

#include <atomic>

namespace dynamod::file_io_audit {

namespace {
thread_local bool allowed_here = false;
std::atomic<uint64_t> on_io{0};
std::atomic<uint64_t> elsewhere{0};
std::atomic<const char*> first{nullptr};
}  // namespace

void allow_this_thread(bool allowed) { allowed_here = allowed; }

void note(const char* what) {
  if (allowed_here) {
    on_io.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  elsewhere.fetch_add(1, std::memory_order_relaxed);
  const char* none = nullptr;
  first.compare_exchange_strong(none, what, std::memory_order_relaxed);
}

counts snapshot() {
  const char* f = first.load(std::memory_order_relaxed);
  return counts{on_io.load(std::memory_order_relaxed), elsewhere.load(std::memory_order_relaxed), f ? f : ""};
}

}  // namespace dynamod::file_io_audit
