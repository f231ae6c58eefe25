// PID 1's options, read from the kernel command line (/proc/cmdline) or, in container mode, from argv.
// Pure: the parser takes text and fills fixed-size structures.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pid1/root_options.hpp"

namespace dynamod::init {

struct init_options {
  char runtime_path[256] = "/usr/lib/dynamod/dynamod-runtime";  // dynamod.runtime=
  char shell_path[128] = "/bin/sh";                             // dynamod.shell=
  uint32_t stop_timeout_ms = 90000;  // dynamod.stop_timeout=: how long the runtime may take to stop services
  uint32_t kill_grace_ms = 5000;     // dynamod.kill_grace=: SIGTERM to everything, then SIGKILL after this
  uint32_t backoff_initial_ms = 100;  // dynamod.backoff=INITIAL,MAX[,RESET]: runtime restart schedule
  uint32_t backoff_max_ms = 30000;
  uint32_t backoff_reset_ms = 60000;
  // dynamod.liveness=INTERVAL,DEADLINE: ping the runtime every INTERVAL; no answer within DEADLINE = hung,
  // killed and restarted. Generous: a loaded runtime under emulation must not be mistaken for a hung one.
  uint32_t liveness_interval_ms = 15000;
  uint32_t liveness_timeout_ms = 60000;
  bool emergency = false;  // dynamod.emergency: start the shell instead of the runtime
  bool debug = false;      // dynamod.debug: log debug lines too
  root_options root;       // root=, rootfstype=, rootflags=, ro/rw, rootwait, rootdelay=, init= (root_options.hpp)
};

// Problems are reported, not fatal: the option keeps its default.
struct cmdline_warnings {
  static constexpr size_t kMax = 8;
  char text[kMax][160] = {};
  size_t count = 0;
  size_t dropped = 0;
  void add(const char* what, const char* token, size_t token_len);
};

// Parses kernel-command-line syntax: whitespace-separated words, double quotes group
// (`dynamod.runtime="/opt/my runtime"`), and everything after a lone `--` belongs to init's argv
// and is ignored here. `dynamod.*` words and the kernel's words about the root (root_options) are interpreted.
void parse_kernel_cmdline(const char* text, size_t length, init_options& options, cmdline_warnings& warnings);

// Parses "250ms", "5s", "2m" or a bare number (times `bare_scale_ms`, seconds by default) into
// milliseconds. Returns false on anything else, leaving `out` untouched.
bool parse_duration_ms(const char* text, size_t length, uint32_t& out, uint32_t bare_scale_ms = 1000);

}  // namespace dynamod::init
