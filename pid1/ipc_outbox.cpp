#include "pid1/ipc_outbox.hpp"

#include <cstring>

namespace dynamod::init {

using protocol::init_message;
using protocol::init_msg;

void ipc_outbox::reset() {
  size_ = 0;
  hello_pending_ = stop_all_pending_ = ping_pending_ = false;
}

void ipc_outbox::request_hello(uint32_t generation) {
  hello_pending_ = true;
  hello_generation_ = generation;
}

void ipc_outbox::request_stop_all(protocol::power_mode mode) {
  stop_all_pending_ = true;
  stop_mode_ = mode;
}

void ipc_outbox::request_ping(uint32_t sequence) {
  ping_pending_ = true;
  ping_sequence_ = sequence;
}

bool ipc_outbox::append(const init_message& m) {
  const size_t n = protocol::encode(m, buffer_ + size_, kCapacity - size_);
  if (n == 0) return false;
  size_ += n;
  return true;
}

void ipc_outbox::fill(orphan_registry& orphans, bool runtime_ready) {
  init_message m;
  if (hello_pending_) {
    m.type = init_msg::hello;
    m.generation = hello_generation_;
    if (!append(m)) return;
    hello_pending_ = false;
  }
  if (stop_all_pending_) {
    m.type = init_msg::stop_all;
    m.mode = stop_mode_;
    if (!append(m)) return;
    stop_all_pending_ = false;
  }
  if (ping_pending_) {
    m.type = init_msg::ping;
    m.sequence = ping_sequence_;
    if (!append(m)) return;
    ping_pending_ = false;
  }
  // Orphan exits only once the runtime has re-adopted its services (ready).
  while (runtime_ready && orphans.has_pending()) {
    m.type = init_msg::orphan_exit;
    m.pid = static_cast<uint32_t>(orphans.front().pid);
    m.wait_status = orphans.front().wait_status;
    if (!append(m)) return;
    orphans.pop();
  }
}

void ipc_outbox::consume(size_t n) {
  if (n >= size_) {
    size_ = 0;
    return;
  }
  std::memmove(buffer_, buffer_ + n, size_ - n);
  size_ -= n;
}

}  // namespace dynamod::init
