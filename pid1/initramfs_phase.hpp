// The initramfs phase of PID 1: when the kernel started us from an initramfs and root= names the real root,
// load the initramfs' modules, wait (bounded) for the device, mount it, switch_root and exec the init there
// (init=, else dynamod-init of the disk, which then boots the system from its own /etc/dynamod).
// See ARCHITECTURE.md ("Initramfs phase").
#pragma once

#include "pid1/kernel_cmdline.hpp"

namespace dynamod::init {

// True when / is the kernel's rootfs (ramfs or tmpfs) and root= is given: the root is still to be mounted.
bool initramfs_phase_needed(const init_options& options);

// Does the phase. Returns only when it failed before the point of no return, with a one-line reason for the
// console (the caller offers the emergency shell, then may try again); on success it execs and never returns.
// `argv` is PID 1's own, passed on to the new init (the kernel's extra words, such as "single").
const char* enter_real_root(const init_options& options, char** argv);

// Says `why` on the console and runs the emergency shell there until it exits (then the caller tries again).
// Without a shell, waits a few seconds instead: never a kernel panic.
void offer_emergency_shell(const char* shell, const char* why);

}  // namespace dynamod::init
