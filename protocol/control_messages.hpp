// The control protocol between dynamodctl (or any client) and the runtime, over
// /run/dynamod/control.sock. Framing: frame_codec.hpp with version kControlProtocolVersion.
//
//   request (client -> runtime, type 0x01):  u32 id, str command, u16 argc, argc x str arg, u32 flags
//   reply   (runtime -> client, type 0x81):  u32 id, u8 kind, u8 exit_code, blob json
//
// A request gets one `result` or `error` reply, or a stream of `event` replies closed by `end`.
// Replies for different ids may interleave. The JSON shapes are documented in docs/control-protocol.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/frame_codec.hpp"

namespace dynamod::protocol {

inline constexpr uint8_t kControlProtocolVersion = 1;
inline constexpr size_t kControlMaxRequest = 64 * 1024;       // a request larger than this is garbage
inline constexpr size_t kControlMaxReply = 16 * 1024 * 1024;  // a tree of thousands of services fits
inline constexpr size_t kControlMaxArgs = 1024;
// The runtime answers a start/stop/restart within this (an error if its outcome is still unknown), and a client
// waits this much longer before it gives up on an answer: no request hangs forever.
inline constexpr std::chrono::seconds kControlOperateTimeout{600};
inline constexpr std::chrono::seconds kControlClientGrace{30};

enum class control_frame : uint8_t { request = 0x01, reply = 0x81 };

enum control_flags : uint32_t {
  flag_no_block = 1u << 0,  // start/stop/restart: do not wait for the outcome
  flag_follow = 1u << 1,    // logs -f, tree --watch: keep streaming
};

enum class reply_kind : uint8_t { result = 0, error = 1, event = 2, end = 3 };

struct control_request {
  uint32_t id = 0;
  std::string command;
  std::vector<std::string> args;
  uint32_t flags = 0;
};

struct control_reply {
  uint32_t id = 0;
  reply_kind kind = reply_kind::result;
  uint8_t exit_code = 0;  // what dynamodctl should exit with (systemctl conventions)
  std::string json;
};

// Encoders append one complete frame to `out`.
void encode_request(const control_request& r, std::vector<uint8_t>& out);
void encode_reply(const control_reply& r, std::vector<uint8_t>& out);

// Decoders validate everything; on failure they return false and say why in `error`.
bool decode_request(const frame_view& frame, control_request& out, std::string& error);
bool decode_reply(const frame_view& frame, control_reply& out, std::string& error);

}  // namespace dynamod::protocol
