// One per service, outliving its incarnations: reads the service's stdout and stderr from two FIFOs,
// timestamps each line, marks its stream, appends it to the service's log file (rotating by size) and
// keeps a bounded tail in memory. The FIFOs live in the state dir and are opened read-write on both
// sides, so a service never gets SIGPIPE, not even while the runtime is being restarted by PID 1: lines
// wait in the pipe (the service blocks when it is full) and nothing is lost.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
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

// Messages: (log_tail_atom, uint32_t n) -> std::vector<std::string> with the last n lines.
caf::actor spawn_log_sink(caf::event_based_actor* supervisor, log_sink_args args);

// Where a service's output FIFOs live: <state_dir>/log/<service>.stdout / .stderr.
std::string log_fifo_path(const runtime_paths& paths, const std::string& service, bool stderr_stream);

// Creates the FIFO if needed (both sides call it: whoever comes first). Returns false on failure.
bool ensure_log_fifo(const std::string& path);

// "2026-11-25T10:00:00.123Z out| text": the formatting of one stored line.
std::string format_log_line(int64_t unix_ms, bool stderr_stream, const std::string& text);

}  // namespace dynamod
