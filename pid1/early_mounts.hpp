// The API filesystems PID 1 mounts before anything else runs: /proc, /sys, /dev, /dev/pts, /dev/shm,
// /run and the cgroup2 hierarchy. Each is mounted only if it is not mounted already (an initramfs
// or a container may have done it), and a failure is logged, never fatal.
#pragma once

namespace dynamod::init {

void mount_api_filesystems();

}  // namespace dynamod::init
