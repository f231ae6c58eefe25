#include "pid1/initramfs_phase.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pid1/child_process.hpp"
#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"
#include "pid1/module_loader.hpp"
#include "pid1/root_device.hpp"
#include "pid1/switch_root.hpp"

extern char** environ;

namespace dynamod::init {

namespace {

constexpr const char* kNewRoot = "/newroot";
constexpr const char* kModulesRoot = "/lib/modules";
constexpr uint32_t kPollMs = 100;
// Tried in order when init= is not given: our own init on the disk first (dynamod package), then whatever
// the system's default init is (dynamod-init package: /sbin/init is ours).
constexpr const char* kInitCandidates[] = {"/sbin/dynamod-init", "/usr/sbin/dynamod-init", "/sbin/init"};
constexpr const char* kDefaultFsTypes[] = {"ext4", "btrfs"};

char g_reason[320];

const char* reason(const log_line& l) {
  const size_t n = l.size() < sizeof g_reason - 1 ? l.size() : sizeof g_reason - 1;
  std::memcpy(g_reason, l.data(), n);
  g_reason[n] = '\0';
  return g_reason;
}

// The kernel waits forever with rootwait and not at all without it. We load the drivers ourselves and their
// devices appear asynchronously, so we always wait, and always with a bound: an init must reach a shell.
uint32_t wait_bound_ms(const root_options& root) { return root.wait_ms ? root.wait_ms : kDefaultRootWaitMs; }

bool wait_for_device(const root_options& root, root_device& device, char* why, size_t why_len) {
  if (root.delay_ms) sleep_ms(root.delay_ms);
  const uint64_t start = monotonic_ms();
  bool announced = false;
  for (;;) {
    if (find_root_device(root, "/sys/class/block", "/dev", device, why, why_len)) return true;
    const uint64_t waited = monotonic_ms() - start;
    if (waited >= wait_bound_ms(root)) return false;
    if (!announced && waited >= 1000) {
      log_notice(log_line{} << "waiting up to " << duration_text{wait_bound_ms(root)} << " for the root device: "
                            << why);
      announced = true;
    }
    sleep_ms(kPollMs);
  }
}

// mount(2) with each candidate type; returns 0 or the errno of the last attempt.
int mount_root(const root_options& root, const root_device& device) {
  const unsigned long flags = root.read_write ? 0 : MS_RDONLY;
  const char* data = root.flags[0] ? root.flags : nullptr;
  int err = ENODEV;
  auto attempt = [&](const char* type) {
    if (::mount(device.path, kNewRoot, type, flags, data) == 0) {
      log_notice(log_line{} << "mounted " << device.path << " (" << type << (root.read_write ? ", rw" : ", ro")
                            << ") on " << kNewRoot);
      return true;
    }
    err = errno;
    log_debug(log_line{} << "mount " << device.path << " as " << type << ": " << errno_text{err});
    return false;
  };
  if (root.fstype[0]) {
    // rootfstype= may list several, comma-separated, as for the kernel.
    char types[sizeof root.fstype];
    std::memcpy(types, root.fstype, sizeof types);
    for (char* t = types; t && *t;) {
      char* comma = std::strchr(t, ',');
      if (comma) *comma = '\0';
      if (attempt(t)) return 0;
      t = comma ? comma + 1 : nullptr;
    }
    return err;
  }
  if (device.fstype[0] && attempt(device.fstype)) return 0;
  for (const char* type : kDefaultFsTypes) {
    if (std::strcmp(type, device.fstype) != 0 && attempt(type)) return 0;
  }
  return err;
}

// Execs the first init that exists on the new root. Returns only if none could be executed.
void exec_init(const root_options& root, char** argv) {
  static char* args[32];
  size_t n = 1;
  for (int i = 1; argv[i] && n + 1 < sizeof args / sizeof *args; ++i) args[n++] = argv[i];
  args[n] = nullptr;
  auto try_exec = [&](const char* path) {
    args[0] = const_cast<char*>(path);
    log_notice(log_line{} << "switching to " << path << " on the real root");
    ::execve(path, args, environ);
    log_error(log_line{} << "cannot execute " << path << ": " << errno_text{errno});
  };
  if (root.init[0]) {
    try_exec(root.init);
    return;  // init= names exactly one program: falling back to another would hide the mistake
  }
  for (const char* path : kInitCandidates) {
    if (::access(path, X_OK) == 0) try_exec(path);
  }
}

}  // namespace

bool initramfs_phase_needed(const init_options& options) {
  if (options.root.kind == root_kind::none) return false;
  struct statfs st {};
  if (::statfs("/", &st) < 0) return false;
  return st.f_type == RAMFS_MAGIC || st.f_type == TMPFS_MAGIC;
}

const char* enter_real_root(const init_options& options, char** argv) {
  const root_options& root = options.root;
  // The drivers first; the file system's module only for the root's own type (btrfs' dependencies alone spend
  // a noticeable time benchmarking RAID code at load).
  module_load_report modules = load_initramfs_modules(kModulesRoot, module_set::drivers);
  if (modules.loaded || modules.failed) {
    log_notice(log_line{} << "initramfs: " << modules.loaded << " kernel module(s) loaded"
                          << (modules.failed ? ", some failed (see above)" : ""));
  }
  root_device device;
  char why[200];
  if (!wait_for_device(root, device, why, sizeof why)) {
    return reason(log_line{} << "no root device after " << duration_text{wait_bound_ms(root)} << ": " << why
                             << (modules.failed ? " (some kernel modules failed to load)" : ""));
  }
  const bool one_type = root.fstype[0] ? std::strchr(root.fstype, ',') == nullptr : device.fstype[0] != '\0';
  const module_load_report fs_modules =
      one_type ? load_initramfs_module(kModulesRoot, root.fstype[0] ? root.fstype : device.fstype)
               : load_initramfs_modules(kModulesRoot, module_set::filesystems);
  if (fs_modules.loaded) log_notice(log_line{} << "initramfs: " << fs_modules.loaded << " file system module(s) loaded");
  if (const int rc = make_directories(kNewRoot, 0755); rc < 0) {
    return reason(log_line{} << "cannot create " << kNewRoot << ": " << errno_text{-rc});
  }
  if (const int err = mount_root(root, device); err != 0) {
    return reason(log_line{} << "cannot mount " << device.path << " as the root"
                             << (root.fstype[0] ? " (rootfstype=" : "") << (root.fstype[0] ? root.fstype : "")
                             << (root.fstype[0] ? ")" : "") << ": " << errno_text{err});
  }
  if (!move_api_mounts(kNewRoot)) {
    // Best effort: the shell that follows works without it, and the next try mounts the root afresh.
    if (::umount2(kNewRoot, MNT_DETACH) < 0) log_warning(log_line{} << "umount " << kNewRoot << ": " << errno_text{errno});
    return reason(log_line{} << "cannot move /dev, /proc, /sys and /run into the new root");
  }
  // The point of no return: the initramfs is freed and the root is the disk's.
  if (!switch_root(kNewRoot)) {
    return reason(log_line{} << "switch_root to " << device.path << " failed");
  }
  exec_init(root, argv);
  return reason(log_line{} << "no init to execute on " << device.path
                           << (root.init[0] ? " (init=" : "") << (root.init[0] ? root.init : "")
                           << (root.init[0] ? ")" : ""));
}

void offer_emergency_shell(const char* shell, const char* why) {
  log_error(log_line{} << "cannot boot from the root device: " << why);
  // Also straight to the console: `quiet` or a low loglevel may hide kernel-log lines.
  log_line banner;
  banner << "\n*** dynamod-init: cannot boot from the root device\n*** " << why
         << "\n*** Starting the emergency shell; exit it to try again.\n";
  (void)write_all(STDERR_FILENO, banner.data(), banner.size());
  const spawn_result r = spawn_emergency_shell(shell);
  if (r.pid < 0) {
    log_error(log_line{} << "no emergency shell (" << shell << "): " << errno_text{r.error} << "; retrying in 5s");
    sleep_ms(5000);
    return;
  }
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid == r.pid) return;
    if (pid < 0 && errno != EINTR) return;
  }
}

}  // namespace dynamod::init
