// PID 1's descriptor limit: the kernel starts init with RLIMIT_NOFILE 1024/4096, which every process
// inherits; the runtime holds several descriptors per service (FIFOs, pidfds, cgroup watches) and hits
// 4096 at about 800 services. PID 1 raises the hard limit to fs.nr_open, the most the kernel allows, and its
// own soft limit to what holding log FIFOs needs (fd_holder); its children get the inherited soft limit back
// (the runtime raises its own, services keep the conventional one).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dynamod::init {

// Parses /proc/sys/fs/nr_open ("1048576\n"). False on anything but a positive decimal number.
bool parse_nr_open(const char* text, size_t length, uint64_t& out);

// Raises RLIMIT_NOFILE's hard limit to fs.nr_open, logging what it did or why not.
void raise_file_limit();

// In a child before exec: the soft limit PID 1 was started with (select() users expect 1024).
void restore_inherited_file_limit();

}  // namespace dynamod::init
