// One per service, outliving its incarnations: reads the service's stdout and stderr from two FIFOs,
// timestamps each line, marks its stream, appends it to the service's log file (rotating by size), keeps a
// bounded tail in memory and pushes every line to its followers (logs -f). The FIFOs live in the state dir
// and are opened read-write on both sides, so a service never gets SIGPIPE, not even while the runtime is
// being restarted by PID 1: lines wait in the pipe (the service blocks when it is full).
// Nothing read is lost when the runtime is killed: complete lines are only peeked (tee(2) into a scratch
// pipe), written to the file, and then consumed (at-least-once: a kill between the write and the consume
// writes those lines again). Under dynamod-init, PID 1 holds a descriptor of each FIFO (hold_fifo), so what
// a service writes while no runtime runs survives the service's exit. A sink that stops drains its FIFOs
// first and writes a last line without a newline. Lines that cannot be written are counted, and the count
// is said in the runtime log and, once it can be written again, in the service log.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <cstring>
#include <string>

#include "actors/runtime_context.hpp"

namespace dynamod {

struct log_sink_args {
  std::string service;
  std::string file;        // the log file
  uint64_t max_size = 0;   // rotate beyond this (0: never)
  int keep = 3;            // rotated files kept: file.1 ... file.N
  runtime_context_ptr context;
};

// Messages: (log_tail_atom, uint32_t n) -> std::vector<std::string> with the last n lines;
// (log_follow_atom, caf::actor, uint32_t n) -> the same, and every later drain's lines to that actor as one log_line;
// (log_remove_atom): the service is gone: PID 1 lets go of its FIFOs, the sink drains them and quits.
caf::actor spawn_log_sink(caf::event_based_actor* supervisor, log_sink_args args);

// Where a service's output FIFOs live: <volatile state>/log/<service>.stdout / .stderr (see runtime_context).
std::string log_fifo_path(const runtime_paths& paths, const std::string& service, bool stderr_stream);

// Creates the FIFO if needed (both sides call it: whoever comes first). Returns false on failure.
bool ensure_log_fifo(const std::string& path);

// "2026-11-25T10:00:00.123Z out| text": the formatting of one stored line.
std::string format_log_line(int64_t unix_ms, bool stderr_stream, const std::string& text);

// Cuts complete lines out of `partial` + `data`: each line (without its newline, or a piece of kMaxLogLine
// bytes of a longer one) goes to `line`. Returns how many bytes of `data` were used; the rest is an
// unfinished line. `partial` (an earlier unfinished line) is emptied once it is part of a line.
inline constexpr size_t kMaxLogLine = 16 * 1024;
template <typename F>
size_t split_log_lines(std::string& partial, const char* data, size_t size, F&& line) {
  size_t start = 0;
  for (;;) {
    const void* nl = size > start ? std::memchr(data + start, '\n', size - start) : nullptr;
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : size;
    const size_t length = partial.size() + (end - start);
    if (nl && length <= kMaxLogLine) {
      line(partial + std::string(data + start, end - start));
      partial.clear();
      start = end + 1;
    } else if (length >= kMaxLogLine) {
      const size_t take = kMaxLogLine - partial.size();  // partial is always shorter than a line
      line(partial + std::string(data + start, take));
      partial.clear();
      start += take;
    } else {
      return start;
    }
  }
}

}  // namespace dynamod
