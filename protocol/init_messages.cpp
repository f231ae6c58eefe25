#include "protocol/init_messages.hpp"

#include <cstring>
#include <initializer_list>

namespace dynamod::protocol {

const char* to_string(init_msg t) {
  switch (t) {
    case init_msg::ready: return "ready";
    case init_msg::shutdown: return "shutdown";
    case init_msg::track: return "track";
    case init_msg::untrack: return "untrack";
    case init_msg::give_up: return "give-up";
    case init_msg::stopped: return "stopped";
    case init_msg::pong: return "pong";
    case init_msg::hold_fifo: return "hold-fifo";
    case init_msg::drop_fifo: return "drop-fifo";
    case init_msg::hello: return "hello";
    case init_msg::stop_all: return "stop-all";
    case init_msg::orphan_exit: return "orphan-exit";
    case init_msg::ping: return "ping";
  }
  return "unknown";
}

const char* to_string(power_mode m) {
  switch (m) {
    case power_mode::poweroff: return "poweroff";
    case power_mode::reboot: return "reboot";
    case power_mode::halt: return "halt";
  }
  return "unknown";
}

bool parse_power_mode(const char* s, power_mode& out) {
  for (auto m : {power_mode::poweroff, power_mode::reboot, power_mode::halt}) {
    if (std::strcmp(s, to_string(m)) == 0) {
      out = m;
      return true;
    }
  }
  return false;
}

const char* to_string(decode_status s) {
  switch (s) {
    case decode_status::ok: return "ok";
    case decode_status::unknown_type: return "unknown message type";
    case decode_status::bad_body: return "malformed message body";
  }
  return "unknown";
}

size_t encode(const init_message& m, uint8_t* out, size_t capacity) {
  uint8_t body[kInitMaxFrame];
  body_writer w{body, sizeof body};
  switch (m.type) {
    case init_msg::ready:
    case init_msg::stopped:
    case init_msg::hold_fifo: break;
    case init_msg::drop_fifo: w.u64(m.device).u64(m.inode); break;
    case init_msg::shutdown:
    case init_msg::stop_all: w.u8(static_cast<uint8_t>(m.mode)); break;
    case init_msg::track:
    case init_msg::untrack: w.u32(m.pid); break;
    case init_msg::orphan_exit: w.u32(m.pid).i32(m.wait_status); break;
    case init_msg::hello: w.u32(m.generation); break;
    case init_msg::ping:
    case init_msg::pong: w.u32(m.sequence); break;
    case init_msg::give_up:
      w.str(m.text, m.text_length < kInitMaxText ? m.text_length : kInitMaxText);
      break;
  }
  if (!w.ok()) return 0;
  return encode_frame(out, capacity, kInitProtocolVersion, static_cast<uint8_t>(m.type), w.data(), w.size());
}

decode_status decode(const frame_view& frame, init_message& out) {
  out = init_message{};
  body_reader r{frame};
  const auto type = static_cast<init_msg>(frame.type);
  out.type = type;
  switch (type) {
    case init_msg::ready:
    case init_msg::stopped:
    case init_msg::hold_fifo: break;
    case init_msg::drop_fifo:
      out.device = r.u64();
      out.inode = r.u64();
      break;
    case init_msg::shutdown:
    case init_msg::stop_all: {
      const uint8_t mode = r.u8();
      if (mode < 1 || mode > 3) return decode_status::bad_body;
      out.mode = static_cast<power_mode>(mode);
      break;
    }
    case init_msg::track:
    case init_msg::untrack:
      out.pid = r.u32();
      if (out.pid == 0) return decode_status::bad_body;
      break;
    case init_msg::orphan_exit:
      out.pid = r.u32();
      out.wait_status = r.i32();
      break;
    case init_msg::hello: out.generation = r.u32(); break;
    case init_msg::ping:
    case init_msg::pong: out.sequence = r.u32(); break;
    case init_msg::give_up: {
      size_t n = 0;
      const char* s = r.str(n);
      if (n > kInitMaxText) return decode_status::bad_body;
      std::memcpy(out.text, s, n);
      out.text[n] = '\0';
      out.text_length = static_cast<uint16_t>(n);
      break;
    }
    default: return decode_status::unknown_type;
  }
  if (!r.ok() || !r.at_end()) return decode_status::bad_body;
  return decode_status::ok;
}

}  // namespace dynamod::protocol
