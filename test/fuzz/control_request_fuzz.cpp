// libFuzzer target: the control socket's decoding path, as a session runs it (stream reassembly in the
// session's bounded buffer, then request decoding), plus the client's reply decoding. Any crash, leak,
// overflow or undefined behaviour is a bug; a decoded request must re-encode to the same frame.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/control_messages.hpp"

using namespace dynamod::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> storage(kControlMaxRequest);
  frame_reader reader{storage.data(), storage.size(), kControlProtocolVersion};
  // Feed the bytes in two reads, split where the input says, as a socket might deliver them.
  const size_t split = size > 0 ? data[0] % (size + 1) : 0;
  size_t offset = 0;
  for (size_t chunk : {split, size - split}) {
    const size_t n = std::min(chunk, reader.write_space());
    std::memcpy(reader.write_ptr(), data + offset, n);
    reader.commit(n);
    offset += chunk;
    frame_view frame;
    while (reader.next(frame) == frame_status::ok) {
      control_request req;
      std::string error;
      if (decode_request(frame, req, error)) {
        std::vector<uint8_t> again;
        encode_request(req, again);
        frame_view check;
        size_t frame_size = 0;
        if (peek_frame(again.data(), again.size(), kControlProtocolVersion, kControlMaxRequest, check, frame_size) !=
                frame_status::ok ||
            check.body_size != frame.body_size || std::memcmp(check.body, frame.body, frame.body_size) != 0) {
          __builtin_trap();
        }
      }
    }
  }
  // The client's side: the same bytes as a reply frame.
  frame_view frame;
  size_t frame_size = 0;
  if (peek_frame(data, size, kControlProtocolVersion, kControlMaxReply, frame, frame_size) == frame_status::ok) {
    control_reply reply;
    std::string error;
    decode_reply(frame, reply, error);
  }
  return 0;
}
