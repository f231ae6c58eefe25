// Why a service incarnation ended, as the exit reason of its actor (a caf::error in category "svc").
// A clean exit (status 0) is CAF's normal exit (the empty error), as OTP's `normal`.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace dynamod {

enum class service_exit : uint8_t {
  exited = 1,         // context: int exit status (non-zero)
  killed,             // context: int signal
  dumped,             // context: int signal
  start_failed,       // context: string (spawn step and errno)
  readiness_timeout,  // context: string
  watchdog,           // context: string
  oom,                // the cgroup's OOM killer struck
  shutdown,           // terminated by its supervisor (OTP `shutdown`)
  lost,               // adopted process vanished, status unknown
  escalated,          // a supervisor gave up (OTP: it exits with `shutdown` from its parent's view)
};

caf::error make_error(service_exit code);
caf::error make_error(service_exit code, std::string detail);
caf::error make_error(service_exit code, int value);

// The category atom, registered with the actor system for rendering.
caf::atom_value service_exit_category();
std::string render_service_exit(uint8_t code, caf::atom_value, const caf::message& context);

// Whether `reason` is one of ours (with `code`, if given). Safe on an empty error, whose category() CAF 0.17
// would dereference as null.
bool is_service_exit(const caf::error& reason);
bool is_service_exit(const caf::error& reason, service_exit code);

// "exited with status 3", "killed by SIGKILL", "start failed: exec: No such file or directory", "shutdown".
std::string describe_exit(const caf::error& reason);

// OTP's classification, used by restart types: normal / shutdown are "clean".
enum class exit_class { normal, shutdown, abnormal };
exit_class classify(const caf::error& reason);

}  // namespace dynamod
