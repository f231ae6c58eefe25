// The API filesystems PID 1 mounts before anything else runs: /proc, /sys, /dev, /dev/pts, /dev/shm,
// /run and the cgroup2 hierarchy. Each is mounted only if it is not mounted already (an initramfs
// or a container may have done it), and a failure is logged, never fatal.
#pragma once

namespace dynamod::init {

void mount_api_filesystems();

// Reads /proc/self/mountinfo into a static buffer; returns its length (0 on failure).
// The buffer is overwritten by the next call.
const char* read_mountinfo(unsigned long& length);

}  // namespace dynamod::init
