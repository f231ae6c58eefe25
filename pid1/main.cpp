// dynamod-init: the static PID 1. See ARCHITECTURE.md ("PID 1") for what it does and why so little.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pid1/early_mounts.hpp"
#include "pid1/file_io.hpp"
#include "pid1/file_limit.hpp"
#include "pid1/heap_guard.hpp"
#include "pid1/init_log.hpp"
#include "pid1/initramfs_phase.hpp"
#include "pid1/init_loop.hpp"
#include "pid1/kernel_cmdline.hpp"
#include "pid1/loopback.hpp"
#include "pid1/random_seed.hpp"
#include "pid1/system_identity.hpp"

using namespace dynamod::init;

namespace {

// The initial pid namespace always has this inode (PROC_PID_INIT_INO). Anything else means we are
// PID 1 of a container, where mounting, remounting / and reboot(2) are not ours to do.
constexpr ino_t kInitialPidNamespaceInode = 0xEFFFFFFCu;

bool in_child_pid_namespace() {
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) < 0) return false;  // no /proc yet: a real boot
  return st.st_ino != kInitialPidNamespaceInode;
}

// The kernel starts init with the console on fds 0-2 only if /dev/console exists; make sure they
// are open so that no later open() lands on 0, 1 or 2 by accident.
void ensure_standard_fds() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int n = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (n < 0) n = ::open("/dev/null", O_RDWR);
    if (n >= 0 && n != fd) {
      ::dup2(n, fd);
      ::close(n);
    }
  }
}

void load_options(int argc, char** argv, bool container_mode, init_options& options) {
  cmdline_warnings warnings;
  if (container_mode) {
    // In a container the "kernel command line" is our argv.
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--container") == 0) continue;
      parse_kernel_cmdline(argv[i], std::strlen(argv[i]), options, warnings);
    }
  } else {
    char cmdline[4096];
    const long n = read_file("/proc/cmdline", cmdline, sizeof cmdline);
    if (n < 0) {
      log_warning(log_line{} << "cannot read /proc/cmdline: " << errno_text{static_cast<int>(-n)});
    } else {
      parse_kernel_cmdline(cmdline, static_cast<size_t>(n), options, warnings);
    }
  }
  log_set_sink(-1, options.debug);
  for (size_t i = 0; i < warnings.count; ++i) log_warning(log_line{} << "command line: " << warnings.text[i]);
  if (warnings.dropped) log_warning(log_line{} << "command line: " << warnings.dropped << " more problem(s)");
}

}  // namespace

int main(int argc, char** argv) {
  bool container_mode = false;
  for (int i = 1; i < argc; ++i) container_mode |= std::strcmp(argv[i], "--container") == 0;
  if (::getpid() != 1) {
    static const char msg[] =
        "dynamod-init: must run as PID 1 (the kernel's init, or PID 1 of a pid namespace with --container)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    return 1;
  }
  container_mode |= in_child_pid_namespace();
  ::umask(022);

  init_options options;
  if (container_mode) {
    log_set_sink(-1, false);
    load_options(argc, argv, true, options);
  } else {
    mount_api_filesystems();  // before anything else: /proc, /dev and /run are needed below
    ensure_standard_fds();
    const int kmsg = ::open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
    log_set_sink(kmsg, false);
    load_options(argc, argv, false, options);
    log_set_sink(kmsg, options.debug);
    // From the initramfs to the disk: execs the real root's init, or offers a shell and tries again.
    while (initramfs_phase_needed(options)) {
      offer_emergency_shell(options.shell_path, enter_real_root(options, argv));
    }
    // Ctrl-Alt-Del becomes SIGINT to us instead of an immediate reboot.
    if (::reboot(RB_DISABLE_CAD) < 0) log_warning(log_line{} << "RB_DISABLE_CAD: " << errno_text{errno});
    set_hostname_from_config();
    bring_up_loopback();
    ensure_machine_id();
    load_random_seed();
  }
  log_notice(log_line{} << "dynamod-init starting" << (container_mode ? " in container mode" : "")
                        << ", runtime " << options.runtime_path);
  raise_file_limit();  // inherited by the runtime, which raises its soft limit to it

  static init_loop loop{options, container_mode};
  if (!loop.open()) {
    // Without an event loop we cannot supervise anything; a shell on the console is all we can offer.
    log_error(log_line{} << "event loop unavailable; halting in place");
    for (;;) ::pause();
  }
  // From here on PID 1 lives on fixed buffers only.
  heap_guard_lock();
  loop.run();
}
