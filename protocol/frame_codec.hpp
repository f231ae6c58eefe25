// Length-prefixed, versioned binary frames: the one framing used by every dynamod channel
// (PID 1 <-> runtime, dynamodctl <-> runtime). Heap-free so that PID 1 can use it.
//
//   offset 0  u32 LE  length of everything after this field (version + type + body)
//   offset 4  u8      protocol version
//   offset 5  u8      message type
//   offset 6  ...     body (length - 2 bytes)
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynamod::protocol {

inline constexpr size_t kFrameHeaderSize = 6;

enum class frame_status : uint8_t {
  ok,          // a complete frame is available
  need_more,   // the buffer holds only part of a frame
  oversized,   // the announced length exceeds the channel's limit
  bad_version, // the version byte is not the channel's version
  malformed,   // the announced length cannot even hold version and type
};

const char* to_string(frame_status s);

struct frame_view {
  uint8_t version = 0;
  uint8_t type = 0;
  const uint8_t* body = nullptr;
  uint32_t body_size = 0;
};

// Writes one frame to `out`; returns the number of bytes written, or 0 if it does not fit.
size_t encode_frame(uint8_t* out, size_t capacity, uint8_t version, uint8_t type, const uint8_t* body,
                    size_t body_size);

// Examines the start of `data` for one frame without consuming anything. On `ok`, `frame` points into
// `data` and `frame_size` is the full size of the frame including its header.
frame_status peek_frame(const uint8_t* data, size_t size, uint8_t version, size_t max_frame_size,
                        frame_view& frame, size_t& frame_size);

// Reassembles frames from a byte stream into caller-provided storage (no allocation).
// Typical use: read(fd, reader.write_ptr(), reader.write_space()); reader.commit(n); while (next(...)).
class frame_reader {
 public:
  frame_reader(uint8_t* storage, size_t capacity, uint8_t version);

  uint8_t* write_ptr() { return storage_ + end_; }
  size_t write_space() const { return capacity_ - end_; }
  void commit(size_t n) { end_ += n; }

  // Returns the next complete frame. The view stays valid until the next call to next() or write_ptr().
  // After an error status the reader stays in that error state: the stream cannot be resynchronised.
  frame_status next(frame_view& frame);

  size_t buffered() const { return end_ - begin_; }
  frame_status error() const { return error_; }

 private:
  void compact();

  uint8_t* storage_;
  size_t capacity_;
  uint8_t version_;
  size_t begin_ = 0;
  size_t end_ = 0;
  frame_status error_ = frame_status::ok;
};

// Bounded little-endian body encoder. Once an append does not fit, ok() is false and stays false.
class body_writer {
 public:
  body_writer(uint8_t* out, size_t capacity) : out_(out), capacity_(capacity) {}
  body_writer& u8(uint8_t v);
  body_writer& u32(uint32_t v);
  body_writer& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
  body_writer& u64(uint64_t v);
  body_writer& str(const char* s, size_t n);   // u16 length + bytes
  body_writer& blob(const char* s, size_t n);  // u32 length + bytes
  bool ok() const { return ok_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return out_; }

 private:
  bool reserve(size_t n);
  uint8_t* out_;
  size_t capacity_;
  size_t size_ = 0;
  bool ok_ = true;
};

// Bounded body decoder. Reading past the end sets ok() to false and yields zeros / empty strings.
class body_reader {
 public:
  body_reader(const uint8_t* in, size_t size) : in_(in), size_(size) {}
  explicit body_reader(const frame_view& f) : in_(f.body), size_(f.body_size) {}
  uint8_t u8();
  uint32_t u32();
  int32_t i32() { return static_cast<int32_t>(u32()); }
  uint64_t u64();
  // Return a pointer into the body (not NUL-terminated) and its length.
  const char* str(size_t& length);   // u16 length + bytes
  const char* blob(size_t& length);  // u32 length + bytes
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == size_; }

 private:
  bool take(size_t n);
  const uint8_t* in_;
  size_t size_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace dynamod::protocol
