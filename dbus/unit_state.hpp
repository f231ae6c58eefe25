// What systemd's clients read about a unit, derived from dynamod's view of a service or supervisor: ActiveState,
// SubState, LoadState, Result and ExecMain*. Pure: the D-Bus actors fill the inputs from the runtime's state.
// The values are the ones systemctl accepts (an unknown ActiveState is "Invalid unit state" there).
#pragma once

#include <cstdint>
#include <string>

namespace dynamod::dbus {

// dynamod's states as the control protocol names them (docs/control-protocol.md), plus `unknown` for a unit
// dynamod does not have.
enum class dynamod_state { unknown, waiting, starting, running, stopping, done, failed, stopped, disabled };

dynamod_state parse_dynamod_state(const std::string& text);

// How the last incarnation ended, as `last_exit` says it: "exited with status 3", "killed by SIGKILL",
// "dumped core (SIGSEGV)", "oom", "readiness timeout: ...", "watchdog", "shutdown", "gave up: ..." ...
struct exit_summary {
  std::string result = "success";  // Service.Result: success, exit-code, signal, core-dump, timeout, watchdog,
                                   // oom-kill, start-limit-hit, resources
  int32_t code = 0;                // ExecMainCode: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3 (0: none yet)
  int32_t status = 0;              // ExecMainStatus: the exit status, or the signal number
};
exit_summary summarize_exit(const std::string& last_exit, const std::string& detail);

struct unit_state {
  std::string load_state;    // loaded, not-found
  std::string active_state;  // active, reloading, inactive, failed, activating, deactivating
  std::string sub_state;     // running, exited, start, stop-sigterm, failed, dead, active (targets)
};

unit_state service_unit_state(dynamod_state s);
unit_state target_unit_state(dynamod_state s);

}  // namespace dynamod::dbus
