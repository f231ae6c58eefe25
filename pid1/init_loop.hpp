// PID 1's event loop: one epoll set over a signalfd, the IPC socket to the runtime and a timerfd.
// It keeps the runtime alive (restart with backoff), reaps every zombie, forwards the exit statuses
// of orphaned service processes and drives shutdown. Every handler returns to the loop; nothing exits.
#pragma once

#include <cstdint>
#include <sys/types.h>

#include "pid1/ipc_outbox.hpp"
#include "pid1/fd_holder.hpp"
#include "pid1/kernel_cmdline.hpp"
#include "pid1/orphan_registry.hpp"
#include "pid1/restart_backoff.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/init_messages.hpp"

namespace dynamod::init {

class init_loop {
 public:
  init_loop(const init_options& options, bool container_mode);
  // Sets up the fds; returns false if the loop cannot run at all (then the caller falls back to a shell).
  bool open();
  [[noreturn]] void run();

 private:
  void on_signal();
  void reap_children();
  void on_ipc_readable();
  void on_ipc_writable();
  void on_message(const protocol::init_message& m);
  void on_timer();

  bool start_runtime();  // false if no runtime could be started
  void on_runtime_exit(int wait_status);
  void check_liveness(uint64_t now);
  void schedule_runtime_restart(uint64_t uptime_ms, const char* why);
  void close_ipc();
  void start_emergency_shell(const char* why);

  void begin_shutdown(protocol::power_mode mode, const char* cause);
  [[noreturn]] void finish();

  void flush_outgoing();
  void update_epoll_ipc();
  void arm_timer();

  init_options options_;
  bool container_mode_;
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  int timer_fd_ = -1;

  // The runtime incarnation.
  pid_t runtime_pid_ = 0;
  uint64_t runtime_started_ms_ = 0;
  bool runtime_ready_ = false;
  bool runtime_gave_up_ = false;
  uint32_t generation_ = 0;
  uint64_t restart_at_ms_ = 0;  // 0 = no restart pending
  restart_backoff backoff_;
  crash_loop_detector crash_loop_{5, 30000};  // as the original dynamod: 5 crashes in 30 s
  error_backoff epoll_errors_;

  // Liveness: one ping outstanding at a time; no pong by its deadline = the runtime is hung.
  uint32_t ping_sequence_ = 0;
  bool ping_outstanding_ = false;
  uint64_t ping_deadline_ms_ = 0;
  uint64_t next_ping_ms_ = 0;
  bool killed_as_hung_ = false;
  bool draining_exit_ = false;  // reading what an exited runtime left in the channel

  // The IPC socket (our end) and its buffers.
  int ipc_fd_ = -1;
  bool ipc_want_write_ = false;
  uint8_t in_storage_[protocol::kInitMaxFrame];
  protocol::frame_reader reader_{in_storage_, sizeof in_storage_, protocol::kInitProtocolVersion};
  ipc_outbox outbox_;

  orphan_registry orphans_;
  fd_holder fifos_;             // log FIFOs held across runtime restarts (hold_fifo / drop_fifo)
  unsigned long fifos_refused_ = 0;
  unsigned long untracked_reaped_ = 0;

  pid_t shell_pid_ = 0;

  // Shutdown state.
  bool shutting_down_ = false;
  protocol::power_mode shutdown_mode_ = protocol::power_mode::poweroff;
  uint64_t stop_deadline_ms_ = 0;
  uint64_t next_progress_ms_ = 0;
};

}  // namespace dynamod::init
