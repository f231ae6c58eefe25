#include "protocol/frame_codec.hpp"

#include <cstring>

namespace dynamod::protocol {

const char* to_string(frame_status s) {
  switch (s) {
    case frame_status::ok: return "ok";
    case frame_status::need_more: return "truncated frame";
    case frame_status::oversized: return "oversized frame";
    case frame_status::bad_version: return "unsupported protocol version";
    case frame_status::malformed: return "malformed frame header";
  }
  return "unknown frame status";
}

namespace {
void put_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}
uint32_t get_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
}  // namespace

size_t encode_frame(uint8_t* out, size_t capacity, uint8_t version, uint8_t type, const uint8_t* body,
                    size_t body_size) {
  const size_t total = kFrameHeaderSize + body_size;
  if (total > capacity || body_size > UINT32_MAX - 2) return 0;
  put_u32(out, static_cast<uint32_t>(body_size + 2));
  out[4] = version;
  out[5] = type;
  if (body_size > 0) std::memcpy(out + kFrameHeaderSize, body, body_size);
  return total;
}

frame_status peek_frame(const uint8_t* data, size_t size, uint8_t version, size_t max_frame_size,
                        frame_view& frame, size_t& frame_size) {
  if (size < 4) return frame_status::need_more;
  const uint32_t length = get_u32(data);
  if (length < 2) return frame_status::malformed;
  if (static_cast<size_t>(length) + 4 > max_frame_size) return frame_status::oversized;
  if (size < 5) return frame_status::need_more;
  // Check the version as soon as it is visible, so a peer speaking another version is told at once.
  if (data[4] != version) return frame_status::bad_version;
  if (size < static_cast<size_t>(length) + 4) return frame_status::need_more;
  frame.version = data[4];
  frame.type = data[5];
  frame.body = data + kFrameHeaderSize;
  frame.body_size = length - 2;
  frame_size = static_cast<size_t>(length) + 4;
  return frame_status::ok;
}

frame_reader::frame_reader(uint8_t* storage, size_t capacity, uint8_t version)
    : storage_(storage), capacity_(capacity), version_(version) {}

void frame_reader::compact() {
  if (begin_ == 0) return;
  const size_t n = end_ - begin_;
  if (n > 0) std::memmove(storage_, storage_ + begin_, n);
  begin_ = 0;
  end_ = n;
}

frame_status frame_reader::next(frame_view& frame) {
  if (error_ != frame_status::ok) return error_;
  size_t frame_size = 0;
  // The whole storage is the frame limit: a frame that could never fit is an error, not a wait.
  const frame_status s = peek_frame(storage_ + begin_, end_ - begin_, version_, capacity_, frame, frame_size);
  if (s == frame_status::ok) {
    begin_ += frame_size;
    if (begin_ == end_) begin_ = end_ = 0;
    return s;
  }
  if (s == frame_status::need_more) {
    compact();
    return s;
  }
  error_ = s;
  return s;
}

bool body_writer::reserve(size_t n) {
  if (!ok_ || capacity_ - size_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

body_writer& body_writer::u8(uint8_t v) {
  if (reserve(1)) out_[size_++] = v;
  return *this;
}

body_writer& body_writer::u32(uint32_t v) {
  if (reserve(4)) {
    put_u32(out_ + size_, v);
    size_ += 4;
  }
  return *this;
}

body_writer& body_writer::u64(uint64_t v) {
  u32(static_cast<uint32_t>(v));
  return u32(static_cast<uint32_t>(v >> 32));
}

body_writer& body_writer::str(const char* s, size_t n) {
  if (n > 0xFFFF) {
    ok_ = false;
    return *this;
  }
  if (reserve(2 + n)) {
    out_[size_++] = static_cast<uint8_t>(n);
    out_[size_++] = static_cast<uint8_t>(n >> 8);
    if (n > 0) std::memcpy(out_ + size_, s, n);
    size_ += n;
  }
  return *this;
}

body_writer& body_writer::blob(const char* s, size_t n) {
  if (n > UINT32_MAX) {
    ok_ = false;
    return *this;
  }
  u32(static_cast<uint32_t>(n));
  if (reserve(n)) {
    if (n > 0) std::memcpy(out_ + size_, s, n);
    size_ += n;
  }
  return *this;
}

bool body_reader::take(size_t n) {
  if (!ok_ || size_ - pos_ < n) {
    ok_ = false;
    return false;
  }
  return true;
}

uint8_t body_reader::u8() { return take(1) ? in_[pos_++] : 0; }

uint32_t body_reader::u32() {
  if (!take(4)) return 0;
  const uint32_t v = get_u32(in_ + pos_);
  pos_ += 4;
  return v;
}

uint64_t body_reader::u64() {
  const uint64_t lo = u32();
  const uint64_t hi = u32();
  return lo | hi << 32;
}

const char* body_reader::str(size_t& length) {
  length = 0;
  if (!take(2)) return "";
  const size_t n = static_cast<size_t>(in_[pos_]) | static_cast<size_t>(in_[pos_ + 1]) << 8;
  pos_ += 2;
  if (!take(n)) return "";
  const char* s = reinterpret_cast<const char*>(in_ + pos_);
  pos_ += n;
  length = n;
  return s;
}

}  // namespace dynamod::protocol

namespace dynamod::protocol {

const char* body_reader::blob(size_t& length) {
  length = 0;
  const size_t n = u32();
  if (!take(n)) return "";
  const char* s = reinterpret_cast<const char*>(in_ + pos_);
  pos_ += n;
  length = n;
  return s;
}

}  // namespace dynamod::protocol
