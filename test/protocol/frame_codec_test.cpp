#include "protocol/frame_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace dynamod::protocol;

namespace {
constexpr uint8_t kVersion = 7;

std::vector<uint8_t> frame(uint8_t type, std::vector<uint8_t> body, uint8_t version = kVersion) {
  std::vector<uint8_t> out(kFrameHeaderSize + body.size());
  EXPECT_EQ(encode_frame(out.data(), out.size(), version, type, body.data(), body.size()), out.size());
  return out;
}
}  // namespace

TEST(FrameCodec, EncodesLengthVersionTypeAndBody) {
  auto f = frame(0x42, {1, 2, 3});
  EXPECT_EQ(f, (std::vector<uint8_t>{5, 0, 0, 0, kVersion, 0x42, 1, 2, 3}));
}

TEST(FrameCodec, EncodeRefusesWhenCapacityIsTooSmall) {
  uint8_t out[8];
  const uint8_t body[3] = {1, 2, 3};
  EXPECT_EQ(encode_frame(out, sizeof out, kVersion, 1, body, sizeof body), 0u);
}

TEST(FrameCodec, PeekReportsEveryTruncationAsNeedMore) {
  auto f = frame(9, {10, 20, 30, 40});
  for (size_t n = 0; n < f.size(); ++n) {
    frame_view v;
    size_t size = 0;
    EXPECT_EQ(peek_frame(f.data(), n, kVersion, 64, v, size), frame_status::need_more) << "prefix " << n;
  }
  frame_view v;
  size_t size = 0;
  ASSERT_EQ(peek_frame(f.data(), f.size(), kVersion, 64, v, size), frame_status::ok);
  EXPECT_EQ(size, f.size());
  EXPECT_EQ(v.type, 9);
  ASSERT_EQ(v.body_size, 4u);
  EXPECT_EQ(v.body[3], 40);
}

TEST(FrameCodec, OversizedLengthIsRejectedBeforeTheBodyArrives) {
  const uint8_t header[4] = {0xFF, 0xFF, 0x00, 0x00};  // 65535 bytes announced
  frame_view v;
  size_t size = 0;
  EXPECT_EQ(peek_frame(header, sizeof header, kVersion, 4096, v, size), frame_status::oversized);
}

TEST(FrameCodec, LengthTooShortForVersionAndTypeIsMalformed) {
  const uint8_t bytes[6] = {1, 0, 0, 0, kVersion, 0};
  frame_view v;
  size_t size = 0;
  EXPECT_EQ(peek_frame(bytes, sizeof bytes, kVersion, 64, v, size), frame_status::malformed);
}

TEST(FrameCodec, WrongVersionIsRejectedAsSoonAsItIsVisible) {
  auto f = frame(1, {1, 2, 3}, kVersion + 1);
  frame_view v;
  size_t size = 0;
  EXPECT_EQ(peek_frame(f.data(), 5, kVersion, 64, v, size), frame_status::bad_version);
}

TEST(FrameReader, ReassemblesFramesFedOneByteAtATime) {
  std::vector<uint8_t> stream;
  for (uint8_t t = 1; t <= 3; ++t) {
    auto f = frame(t, std::vector<uint8_t>(t * 5, t));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  uint8_t storage[64];
  frame_reader reader{storage, sizeof storage, kVersion};
  std::vector<uint8_t> types;
  for (uint8_t byte : stream) {
    ASSERT_GE(reader.write_space(), 1u);
    *reader.write_ptr() = byte;
    reader.commit(1);
    frame_view v;
    while (reader.next(v) == frame_status::ok) {
      types.push_back(v.type);
      EXPECT_EQ(v.body_size, v.type * 5u);
      for (uint32_t i = 0; i < v.body_size; ++i) EXPECT_EQ(v.body[i], v.type);
    }
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(FrameReader, ReturnsSeveralFramesFromOneRead) {
  auto a = frame(1, {1});
  auto b = frame(2, {2, 2});
  uint8_t storage[64];
  frame_reader reader{storage, sizeof storage, kVersion};
  std::memcpy(reader.write_ptr(), a.data(), a.size());
  std::memcpy(reader.write_ptr() + a.size(), b.data(), b.size());
  reader.commit(a.size() + b.size());
  frame_view v;
  ASSERT_EQ(reader.next(v), frame_status::ok);
  EXPECT_EQ(v.type, 1);
  ASSERT_EQ(reader.next(v), frame_status::ok);
  EXPECT_EQ(v.type, 2);
  EXPECT_EQ(reader.next(v), frame_status::need_more);
}

TEST(FrameReader, FrameLargerThanStorageIsAnErrorThatSticks) {
  auto big = frame(1, std::vector<uint8_t>(100, 0));
  uint8_t storage[32];
  frame_reader reader{storage, sizeof storage, kVersion};
  std::memcpy(reader.write_ptr(), big.data(), 32);
  reader.commit(32);
  frame_view v;
  EXPECT_EQ(reader.next(v), frame_status::oversized);
  EXPECT_EQ(reader.next(v), frame_status::oversized);
  EXPECT_EQ(reader.error(), frame_status::oversized);
}

TEST(FrameReader, GarbageBytesNeverCrashAndEndInAnError) {
  uint8_t storage[64];
  frame_reader reader{storage, sizeof storage, kVersion};
  const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  std::memcpy(reader.write_ptr(), garbage, sizeof garbage);
  reader.commit(sizeof garbage);
  frame_view v;
  const frame_status s = reader.next(v);
  EXPECT_NE(s, frame_status::ok);
  EXPECT_NE(s, frame_status::need_more);
}

TEST(BodyCodec, RoundTripsIntegersAndStrings) {
  uint8_t buf[64];
  body_writer w{buf, sizeof buf};
  w.u8(0xAB).u32(0xDEADBEEF).i32(-5).u64(0x0102030405060708ULL).str("hello", 5);
  ASSERT_TRUE(w.ok());
  body_reader r{buf, w.size()};
  EXPECT_EQ(r.u8(), 0xAB);
  EXPECT_EQ(r.u32(), 0xDEADBEEFu);
  EXPECT_EQ(r.i32(), -5);
  EXPECT_EQ(r.u64(), 0x0102030405060708ULL);
  size_t n = 0;
  const char* s = r.str(n);
  EXPECT_EQ(std::string(s, n), "hello");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

TEST(BodyCodec, WriterStopsAtCapacity) {
  uint8_t buf[6];
  body_writer w{buf, sizeof buf};
  w.u32(1).u32(2);
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 4u);
}

TEST(BodyCodec, ReaderFlagsReadsPastTheEnd) {
  const uint8_t buf[3] = {1, 2, 3};
  body_reader r{buf, sizeof buf};
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(BodyCodec, StringLengthBeyondBodyIsRejected) {
  const uint8_t buf[4] = {10, 0, 'a', 'b'};  // claims 10 bytes, has 2
  body_reader r{buf, sizeof buf};
  size_t n = 99;
  r.str(n);
  EXPECT_EQ(n, 0u);
  EXPECT_FALSE(r.ok());
}
