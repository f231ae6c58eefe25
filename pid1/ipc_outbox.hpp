// PID 1's output towards the runtime: a fixed buffer of encoded frames. Control messages (hello,
// stop_all, ping) are pending flags encoded ahead of any further orphan exit whenever there is room, so
// a full buffer of orphan exits delays them but can never drop them. Pure: the caller does the send().
#pragma once

#include <cstddef>
#include <cstdint>

#include "pid1/orphan_registry.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::init {

class ipc_outbox {
 public:
  static constexpr size_t kCapacity = 4096;

  void reset();  // a new channel: nothing pending, nothing buffered
  void request_hello(uint32_t generation);
  void request_stop_all(protocol::power_mode mode);
  void request_ping(uint32_t sequence);

  // Encodes the pending control messages, then (once the runtime is ready) queued orphan exits, as far as
  // the buffer has room. Control messages always go first.
  void fill(orphan_registry& orphans, bool runtime_ready);

  const uint8_t* data() const { return buffer_; }
  size_t size() const { return size_; }
  void consume(size_t n);  // n bytes were sent
  bool control_pending() const { return hello_pending_ || stop_all_pending_ || ping_pending_; }

 private:
  bool append(const protocol::init_message& m);

  uint8_t buffer_[kCapacity];
  size_t size_ = 0;
  bool hello_pending_ = false;
  uint32_t hello_generation_ = 0;
  bool stop_all_pending_ = false;
  protocol::power_mode stop_mode_ = protocol::power_mode::poweroff;
  bool ping_pending_ = false;
  uint32_t ping_sequence_ = 0;
};

}  // namespace dynamod::init
