// Counts file work (state records, log FIFOs and files, restart histories) by the kind of thread that does it.
// Actors must not wait on a disk: that work belongs on the file I/O actor's thread (or the main thread before
// the actors run). The count of what ran anywhere else is shown in `dynamodctl tree` (the file_io node) and
// asserted zero for the start path by the tests. A relaxed atomic add per operation: always on.
#pragma once

#include <cstdint>
#include <string>

namespace dynamod::file_io_audit {

// Marks the calling thread as one where file work belongs (the file I/O actor's, main before the actors run).
void allow_this_thread(bool allowed);
// Records one file operation (`what`: a short name such as "record write") by the calling thread.
void note(const char* what);

struct counts {
  uint64_t on_io_threads = 0;
  uint64_t elsewhere = 0;
  std::string first_elsewhere;  // what the first operation done elsewhere was ("" if none)
};
counts snapshot();

}  // namespace dynamod::file_io_audit
