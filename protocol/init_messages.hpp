// Messages between dynamod-init (PID 1) and dynamod-runtime over the inherited socketpair
// (fd 3 in the runtime, announced as DYNAMOD_INIT_FD). Documented in ARCHITECTURE.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/frame_codec.hpp"

namespace dynamod::protocol {

inline constexpr uint8_t kInitProtocolVersion = 1;
inline constexpr size_t kInitMaxFrame = 512;  // every init message fits; larger is garbage
inline constexpr size_t kInitMaxText = 240;

enum class init_msg : uint8_t {
  // runtime -> init
  ready = 0x01,     // runtime is up; its services are started or re-adopted
  shutdown = 0x02,  // please shut the system down: mode
  track = 0x03,     // pid is a service process: if it is ever orphaned, forward its exit status
  untrack = 0x04,   // pid was reaped by the runtime itself
  give_up = 0x05,   // the root supervisor gave up: text = reason
  stopped = 0x06,   // answer to stop_all: every service is stopped
  hold_fifo = 0x07,  // carries a log FIFO's descriptor (SCM_RIGHTS): keep it open across runtime restarts
  drop_fifo = 0x08,  // close the held FIFO with this device and inode (its service was removed)
  pong = 0x09,      // answer to ping: sequence (from the pid1_link actor, so a live mailbox answers)
  // init -> runtime
  hello = 0x81,        // generation = how many times init has started a runtime (1 = first boot)
  stop_all = 0x82,     // stop every service in reverse dependency order, then answer `stopped`
  orphan_exit = 0x83,  // a tracked pid was reaped by init: pid, wait_status (as from waitpid)
  ping = 0x85,         // liveness check: answer pong with the same sequence before init's deadline
};

enum class power_mode : uint8_t { poweroff = 1, reboot = 2, halt = 3 };

const char* to_string(init_msg t);
const char* to_string(power_mode m);
bool parse_power_mode(const char* s, power_mode& out);

struct init_message {
  init_msg type = init_msg::ready;
  power_mode mode = power_mode::poweroff;  // shutdown, stop_all
  uint32_t pid = 0;                        // track, untrack, orphan_exit
  int32_t wait_status = 0;                 // orphan_exit
  uint32_t generation = 0;                 // hello
  uint32_t sequence = 0;                   // ping, pong
  uint64_t device = 0;                     // drop_fifo: st_dev of the FIFO
  uint64_t inode = 0;                      // drop_fifo: st_ino of the FIFO
  uint16_t text_length = 0;                // give_up
  char text[kInitMaxText + 1] = {};
};

enum class decode_status : uint8_t { ok, unknown_type, bad_body };
const char* to_string(decode_status s);

// Encodes one complete frame; returns its size, or 0 if `capacity` is too small.
size_t encode(const init_message& m, uint8_t* out, size_t capacity);
decode_status decode(const frame_view& frame, init_message& out);

}  // namespace dynamod::protocol
