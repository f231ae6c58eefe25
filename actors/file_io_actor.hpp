// The file I/O actor: the one place where the runtime's actors touch the state directory (adoption records,
// restart histories, log FIFOs). Detached, on a thread of its own, so a slow or stalled disk delays the files,
// never the scheduler threads that run every other actor. Requests from one actor are done in the order sent.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "runtime/state/adoption_record.hpp"

namespace dynamod {

// What a starting supervisor learns from the state directory in one request: per service (in the order asked)
// what its predecessor left, and its own restart history.
struct adoption_findings {
  std::vector<std::optional<adoption_decision>> decisions;
  std::optional<restart_history> history;
};

// Descriptors opened for a caller (log FIFOs); `error` is the errno of the first that failed (0: none).
struct opened_fifos {
  int out = -1;
  int err = -1;
  int error = 0;
};

// Messages (`records_dir` is the adoption_store's directory, runtime_context's records_dir()):
//   (record_save_atom, service, adoption_record)              write the record
//   (record_clear_atom, service, invocation_id)               clear it if it is still this incarnation's
//   (spawn_files_atom, service, adoption_record intent, out, err) -> opened_fifos
//        writes the intent, then opens the two FIFOs' write sides (created if missing), blocking mode
//   (sink_files_atom, out, err) -> opened_fifos               the FIFOs' read sides, O_RDWR | O_NONBLOCK
//   (history_save_atom, supervisor, restart_history) / (history_clear_atom, supervisor)
//   (adopt_scan_atom, supervisor, names, fingerprints) -> adoption_findings
//   (tree_atom) -> JSON: the node with the file_io_audit counts
caf::actor spawn_file_io(caf::event_based_actor* parent, std::string records_dir);

}  // namespace dynamod

// Local-only payloads (never serialized).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynamod::adoption_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynamod::restart_history)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynamod::adoption_findings)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dynamod::opened_fifos)
