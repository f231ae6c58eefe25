// dynamod-runtime: the service manager. Started by dynamod-init (PID 1) or, with --user, by anyone.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/control_listener_actor.hpp"
#include "actors/exit_reasons.hpp"
#include "actors/runtime_actor.hpp"
#include "actors/notify_socket_actor.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/config/config_loader.hpp"
#include "runtime/config/supervision_plan.hpp"
#include "protocol/terminal_text.hpp"
#include "runtime/safe_log_format.hpp"
#include "runtime/console_log_sink.hpp"
#include "runtime/console_status.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/io/log_files.hpp"
#include "runtime/process/fd_slots.hpp"
#include "runtime/process/spawn.hpp"
#include "runtime/io/file_io_audit.hpp"
#include "runtime/state/volatile_dir.hpp"
#include "runtime/io/journal_forwarder.hpp"
#include "runtime/runtime_options.hpp"

extern char** environ;

using namespace dynamod;

namespace {

// The initial pid namespace always has this inode (PROC_PID_INIT_INO); a container's has another.
bool in_initial_pid_namespace() {
  struct stat st {};
  return ::stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu;
}

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

// Everything goes to <state_dir>/runtime.log (rotated by size like a service log). On the console (stderr) a booting system shows only
// warnings and errors next to the status lines; in user mode stderr gets the requested level.
void setup_logging(const runtime_options& opts, std::shared_ptr<console_writer> console_out) {
  const auto level = spdlog::level::from_str(opts.log_level);
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<console_log_sink>(std::move(console_out), STDERR_FILENO);
  console->set_formatter(std::make_unique<safe_log_format>("dynamod-runtime[%P]: %^%l%$: %v"));
  console->set_level(opts.user_mode ? level : std::max(level, spdlog::level::warn));
  sinks.push_back(console);
  std::error_code ec;
  std::filesystem::create_directories(opts.paths.state_dir, ec);
  try {
    auto file = std::make_shared<rotating_log_sink>(opts.paths.state_dir + "/runtime.log", opts.runtime_log_max_size,
                                                    opts.runtime_log_keep);
    file->set_formatter(std::make_unique<safe_log_format>("%Y-%m-%d %H:%M:%S.%e [%P] %l: %v"));
    file->set_level(level);
    sinks.push_back(file);
  } catch (const spdlog::spdlog_ex& e) {
    std::cerr << "dynamod-runtime: no log file: " << e.what() << "\n";
  }
  auto logger = std::make_shared<spdlog::logger>("dynamod", sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// System mode on a cgroup2 host: services get cgroups under /sys/fs/cgroup/dynamod. Otherwise (user mode,
// or a v1/hybrid host) none, and services with [cgroup] limits refuse to start rather than run unlimited.
std::string prepare_cgroups(const runtime_options& opts) {
  if (opts.user_mode) return {};
  auto mount = cgroup2_mount();
  if (!mount) {
    spdlog::warn("no cgroup2 file system at /sys/fs/cgroup: services run without cgroups");
    return {};
  }
  const std::string base = *mount + "/dynamod";
  std::string error;
  if (!prepare_cgroup_base(base, error)) {
    spdlog::error("cgroups disabled: {}", error);
    return {};
  }
  return base;
}

std::string beside_this_executable(const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}

// Bound over inaccessible-paths that are files: empty, mode 000, read-only where it is bound.
std::string make_inaccessible_file(const std::string& state_dir) {
  const std::string path = state_dir + "/inaccessible";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0);
  if (fd >= 0) {
    ::fchmod(fd, 0);
    ::close(fd);
  }
  return path;
}

// Thousands of services and clients each hold descriptors here; services get the original soft limit back
// (spawn_process), as many programs still assume select()'s 1024.
void raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return;
  set_service_file_limit(limit.rlim_cur);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) spdlog::warn("cannot raise the file limit: {}", std::strerror(errno));
  }
}

// --log-group, or adm where it exists (Debian's group for reading logs). -1: only admins read logs.
long resolve_log_group(const std::string& name) {
  if (name == "none") return -1;
  const std::string wanted = name.empty() ? "adm" : name;
  group grp{};
  group* found = nullptr;
  std::vector<char> buf(16384);
  if (::getgrnam_r(wanted.c_str(), &grp, buf.data(), buf.size(), &found) == 0 && found != nullptr) return grp.gr_gid;
  if (!name.empty()) spdlog::warn("--log-group {}: no such group; only root may read services' logs", name);
  return -1;
}

int check_config(const std::string& dir) {
  const config_tree tree = load_config_tree(dir);
  for (const auto& e : tree.errors) std::cerr << e.describe() << "\n";
  for (const auto& [name, why] : tree.disabled) {
    std::cerr << terminal_safe(name) << ": disabled: " << terminal_safe(why) << "\n";
  }
  std::cout << dir << ": " << tree.services.size() << " service(s) and " << tree.supervisors.size()
            << " supervisor(s) valid, " << tree.errors.size() << " error(s)\n";
  return tree.errors.empty() && tree.disabled.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  runtime_options opts;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (auto err = parse_runtime_options(args, environment(), ::getuid(), opts)) {
    std::cerr << "dynamod-runtime: " << *err << "\n" << kRuntimeUsage;
    return 2;
  }
  if (opts.show_help) {
    std::cout << kRuntimeUsage;
    return 0;
  }
  if (opts.show_version) {
    std::cout << "dynamod-runtime 0.1.0\n";
    return 0;
  }
  if (!opts.check_dir.empty()) return check_config(opts.check_dir);
  opts.dbus.enabled = dbus_wanted(opts, in_initial_pid_namespace());
  if (opts.private_state_dir) {
    if (auto wrong = check_private_dir(opts.paths.state_dir, ::getuid())) {
      std::cerr << "dynamod-runtime: refusing to start: " << terminal_safe(*wrong) << "\n";
      return 1;
    }
  }

  // Until the actors run, file work is done here; after that only by the file I/O actor (file_io_audit).
  file_io_audit::allow_this_thread(true);
  // Before anything else opens a descriptor (and before any thread exists): see fd_slots.hpp.
  const bool fd_slots = reserve_fd_slots();
  // Signals are read through the event loop's signalfd: block them before any thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // One arena: the scheduler threads allocate little at a time, and a second arena held a thousand services'
  // actors apart from the main heap (7.5 of 19 MiB PSS at 1000 services, most of it free but not returned).
  // Set before any thread exists.
  ::mallopt(M_ARENA_MAX, 1);
  // Console lines leave through their own thread: a serial console takes ~3 ms a line.
  auto console_out = std::make_shared<console_writer>();
  setup_logging(opts, console_out);
  if (!fd_slots) spdlog::info("close_range(CLOSE_RANGE_UNSHARE) unavailable: spawns copy the descriptor table");
  spdlog::info("dynamod-runtime starting ({} mode, config {}, state {})", opts.user_mode ? "user" : "system",
               opts.paths.config_dir, opts.paths.state_dir);
  std::signal(SIGPIPE, SIG_IGN);
  // Orphans of services come to us, not to PID 1 (or the user's session).
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) spdlog::warn("PR_SET_CHILD_SUBREAPER: {}", std::strerror(errno));
  raise_file_limit();

  std::error_code ec;
  std::filesystem::create_directories(opts.paths.state_dir, ec);
  if (ec) spdlog::error("cannot create state dir {}: {}", opts.paths.state_dir, ec.message());
  const volatile_placement placement = place_volatile_state(opts.paths.state_dir, ::getuid());
  opts.paths.volatile_dir = placement.dir;
  if (!placement.note.empty()) spdlog::info("{}", placement.note);

  const int console_fd = opts.user_mode ? STDOUT_FILENO : ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  // Under dynamod-init the kernel command line says how much the console shows (dynamod.show_status=).
  status_level level = status_level::all;
  if (!opts.user_mode) {
    std::ifstream cmdline_file("/proc/cmdline");
    std::string cmdline;
    std::getline(cmdline_file, cmdline);
    level = status_level_from_cmdline(cmdline);
  }
  console_status console{*console_out, console_fd >= 0 ? console_fd : STDOUT_FILENO, level};

  config_tree tree = load_config_tree(opts.paths.config_dir);
  for (const auto& e : tree.errors) {
    spdlog::error("{}", e.describe());
    console.failed("Bad configuration: " + e.describe(false));  // the console escapes
  }
  for (const auto& [name, why] : tree.disabled) console.failed("Not starting " + name + ": " + why + ".");

  runtime_args rargs;
  rargs.paths = opts.paths;
  rargs.user_mode = opts.user_mode;
  rargs.init_fd = opts.init_fd;
  if (opts.init_fd >= 0) {
    ::fcntl(opts.init_fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(opts.init_fd, F_SETFL, O_NONBLOCK);
  }
  rargs.control_fd = open_control_socket(opts.paths.control_socket);
  if (rargs.control_fd < 0) {
    spdlog::error("cannot listen on {}: {}", opts.paths.control_socket, std::strerror(-rargs.control_fd));
  }
  rargs.notify_fd = open_notify_socket(opts.paths.state_dir + "/notify");
  if (rargs.notify_fd < 0) spdlog::error("cannot bind the notify socket: {}", std::strerror(-rargs.notify_fd));
  rargs.cgroup_base = prepare_cgroups(opts);
  rargs.nsinit = beside_this_executable("dynamod-nsinit");
  rargs.inaccessible_file = make_inaccessible_file(opts.paths.state_dir);
  rargs.log_group = resolve_log_group(opts.log_group);
  rargs.dbus = opts.dbus;
  rargs.disabled = std::move(tree.disabled);
  rargs.plan = make_supervision_plan(std::move(tree));
  rargs.orphans = stop_orphaned_services(rargs.paths, rargs.plan, rargs.disabled);
  std::atomic<bool> stopped_everything{false};
  rargs.stopped_everything = &stopped_everything;

  int exit_code = 0;
  event_loop loop;
  // With the D-Bus face, services' lines also go to journald if one runs (systemctl status shows them).
  std::unique_ptr<journal_forwarder> journal;
  if (opts.dbus.enabled) journal = std::make_unique<journal_forwarder>(opts.dbus.systemd_dir + "/journal/socket");
  {
    caf::actor_system_config sys_cfg;
    sys_cfg.set("scheduler.max-threads", 2);
    // Work sharing sleeps on a condition variable when idle; work stealing polls (hundreds of wake-ups a
    // second on an idle system), which an init system cannot afford.
    sys_cfg.set("scheduler.policy", caf::atom("sharing"));
    sys_cfg.add_error_category(service_exit_category(), render_service_exit);
    caf::actor_system sys{sys_cfg};
    rargs.loop = &loop;
    rargs.journal = journal.get();
    rargs.console = &console;
    auto runtime = spawn_runtime(sys, std::move(rargs));
    if (!loop.start(signals, runtime)) {
      spdlog::critical("cannot start the event loop: {}", std::strerror(errno));
      caf::anon_send_exit(runtime, caf::exit_reason::kill);
      exit_code = 1;
    }
    {
      caf::scoped_actor self{sys};
      self->monitor(runtime);
      self->receive([&](caf::down_msg& down) {
        // The root supervisor gave up: PID 1 has been told; a distinct status makes it visible there too.
        if (is_service_exit(down.reason)) exit_code = 3;
      });
    }
    loop.stop();
  }
  ::unlink(opts.paths.control_socket.c_str());
  if (stopped_everything) remove_volatile_state(opts.paths.state_dir, placement);  // nothing left to adopt
  console_out->flush(console_writer::exit_drain_limit);  // PID 1 sees the last lines before our exit
  if (const uint64_t dropped = console_out->dropped()) {
    spdlog::warn("{} console line(s) were dropped: the console was slower than the runtime", dropped);
  }
  spdlog::info("runtime exiting");
  return exit_code;
}
