#include "protocol/control_messages.hpp"

namespace dynamod::protocol {

namespace {

void append_frame(control_frame type, const body_writer& w, std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderSize + w.size());
  encode_frame(out.data() + at, kFrameHeaderSize + w.size(), kControlProtocolVersion, static_cast<uint8_t>(type),
               w.data(), w.size());
}

bool printable_command(const char* s, size_t n) {
  if (n == 0 || n > 32) return false;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace

void encode_request(const control_request& r, std::vector<uint8_t>& out) {
  size_t size = 4 + 2 + r.command.size() + 2 + 4;
  for (const auto& a : r.args) size += 2 + a.size();
  std::vector<uint8_t> body(size);
  body_writer w{body.data(), body.size()};
  w.u32(r.id).str(r.command.data(), r.command.size());
  w.u8(static_cast<uint8_t>(r.args.size())).u8(static_cast<uint8_t>(r.args.size() >> 8));
  for (const auto& a : r.args) w.str(a.data(), a.size());
  w.u32(r.flags);
  append_frame(control_frame::request, w, out);
}

void encode_reply(const control_reply& r, std::vector<uint8_t>& out) {
  std::vector<uint8_t> body(4 + 1 + 1 + 4 + r.json.size());
  body_writer w{body.data(), body.size()};
  w.u32(r.id).u8(static_cast<uint8_t>(r.kind)).u8(r.exit_code).blob(r.json.data(), r.json.size());
  append_frame(control_frame::reply, w, out);
}

bool decode_request(const frame_view& frame, control_request& out, std::string& error) {
  if (frame.type != static_cast<uint8_t>(control_frame::request)) {
    error = "expected a request frame, got type " + std::to_string(frame.type);
    return false;
  }
  body_reader r{frame};
  out = control_request{};
  out.id = r.u32();
  size_t n = 0;
  const char* cmd = r.str(n);
  if (!r.ok() || !printable_command(cmd, n)) {
    error = "malformed command name";
    return false;
  }
  out.command.assign(cmd, n);
  const size_t argc = static_cast<size_t>(r.u8()) | static_cast<size_t>(r.u8()) << 8;
  if (!r.ok() || argc > kControlMaxArgs) {
    error = "malformed argument count";
    return false;
  }
  out.args.reserve(argc);
  for (size_t i = 0; i < argc; ++i) {
    const char* a = r.str(n);
    if (!r.ok()) {
      error = "argument " + std::to_string(i + 1) + " is truncated";
      return false;
    }
    out.args.emplace_back(a, n);
  }
  out.flags = r.u32();
  if (!r.ok() || !r.at_end()) {
    error = "malformed request body";
    return false;
  }
  return true;
}

bool decode_reply(const frame_view& frame, control_reply& out, std::string& error) {
  if (frame.type != static_cast<uint8_t>(control_frame::reply)) {
    error = "expected a reply frame, got type " + std::to_string(frame.type);
    return false;
  }
  body_reader r{frame};
  out = control_reply{};
  out.id = r.u32();
  const uint8_t kind = r.u8();
  out.exit_code = r.u8();
  size_t n = 0;
  const char* json = r.blob(n);
  if (!r.ok() || !r.at_end() || kind > static_cast<uint8_t>(reply_kind::end)) {
    error = "malformed reply body";
    return false;
  }
  out.kind = static_cast<reply_kind>(kind);
  out.json.assign(json, n);
  return true;
}

}  // namespace dynamod::protocol
