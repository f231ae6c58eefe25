// libFuzzer target: what PID 1 does with bytes from the runtime (and the runtime with bytes from PID 1):
// reassembly in the fixed 512-byte buffer, then message decoding. A decoded message must encode back
// to the same frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "protocol/init_messages.hpp"

using namespace dynamod::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t storage[kInitMaxFrame];
  frame_reader reader{storage, sizeof storage, kInitProtocolVersion};
  size_t offset = 0;
  while (offset < size) {
    const size_t n = std::min(size - offset, reader.write_space());
    if (n == 0) break;  // the reader is in an error state or full: PID 1 drops the channel
    std::memcpy(reader.write_ptr(), data + offset, n);
    reader.commit(n);
    offset += n;
    frame_view frame;
    frame_status s;
    while ((s = reader.next(frame)) == frame_status::ok) {
      init_message m;
      if (decode(frame, m) != decode_status::ok) continue;
      uint8_t again[kInitMaxFrame];
      const size_t len = encode(m, again, sizeof again);
      if (len != frame.body_size + kFrameHeaderSize || std::memcmp(again + kFrameHeaderSize, frame.body, frame.body_size) != 0) {
        __builtin_trap();
      }
    }
    if (s != frame_status::need_more) break;
  }
  return 0;
}
