// The last phase of a shutdown, after the runtime has stopped the services (or failed to):
// SIGTERM to every remaining process, a grace period, SIGKILL, unmount everything in reverse
// mount order (lazily where busy), remount / read-only, sync, reboot(2). Each step is logged.
#pragma once

#include "pid1/kernel_cmdline.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::init {

// In container mode (PID 1 of a pid namespace) the filesystems and the kernel are not ours:
// processes are killed, then PID 1 exits instead of unmounting and calling reboot(2).
[[noreturn]] void finish_shutdown(protocol::power_mode mode, const init_options& options, bool container_mode);

}  // namespace dynamod::init
