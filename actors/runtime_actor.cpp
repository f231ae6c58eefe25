#include "actors/runtime_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

#include "actors/control_listener_actor.hpp"
#include "actors/exit_reasons.hpp"
#include "actors/messages.hpp"
#include "actors/pid1_link_actor.hpp"
#include "actors/reaper_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/console_status.hpp"

namespace dynamod {

struct runtime_state {
  runtime_context_ptr context;
  caf::actor root;
  bool stopping = false;
  static inline const char* name = "runtime";
};

namespace {

using self_ptr = caf::stateful_actor<runtime_state>*;

// Stops every service in order, then tells PID 1 (if any) and quits.
void stop_everything(self_ptr self, const char* why) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  spdlog::info("stopping all services ({})", why);
  self->request(st.root, caf::infinite, stop_all_atom_v)
      .then(
          [=](stopped_atom) {
            spdlog::info("all services stopped");
            if (self->state.context->pid1_link) self->send(self->state.context->pid1_link, stopped_atom_v);
            self->quit(caf::exit_reason::user_shutdown);
          },
          [=](caf::error& err) {
            spdlog::error("stopping services failed: {}", caf::to_string(err));
            if (self->state.context->pid1_link) self->send(self->state.context->pid1_link, stopped_atom_v);
            self->quit(caf::exit_reason::user_shutdown);
          });
}

}  // namespace

static caf::behavior runtime_actor(self_ptr self, runtime_args args) {
  auto ctx = std::make_shared<runtime_context>();
  ctx->paths = args.paths;
  ctx->user_mode = args.user_mode;
  ctx->loop = args.loop;
  ctx->console = args.console;
  if (args.init_fd >= 0) {
    ctx->pid1_link = spawn_pid1_link(self, args.init_fd, args.loop);
  }
  ctx->reaper = spawn_reaper(self, ctx->pid1_link);
  if (ctx->pid1_link) self->send(ctx->pid1_link, reaper_atom_v, ctx->reaper);
  self->state.context = ctx;
  self->state.root = spawn_supervisor(self, supervisor_args{"root", args.services, ctx});
  if (args.control_fd >= 0) {
    spawn_control_listener(self, args.control_fd, ctx);
  }
  if (ctx->pid1_link) self->send(ctx->pid1_link, ready_atom_v);
  spdlog::info("runtime ready: {} service(s)", args.services.size());

  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source == self->state.root.address() && self->state.stopping) return;  // expected
    if (ctx->pid1_link && msg.source == ctx->pid1_link.address()) {
      // Without PID 1 we cannot report or shut down properly; exit and let PID 1 restart us.
      spdlog::error("lost the link to dynamod-init: {}", caf::to_string(msg.reason));
      self->quit(msg.reason);
      return;
    }
    if (!msg.reason) return;
    spdlog::error("system actor failed: {}", caf::to_string(msg.reason));
    self->quit(msg.reason);
  });

  return {
      [=](signal_atom, int signo) {
        switch (signo) {
          case SIGCHLD: self->send(self->state.context->reaper, sigchld_atom_v); break;
          case SIGTERM:
          case SIGINT: stop_everything(self, signo == SIGTERM ? "SIGTERM" : "SIGINT"); break;
          default: break;
        }
      },
      [=](stop_all_atom, uint8_t mode) {
        stop_everything(self, protocol::to_string(static_cast<protocol::power_mode>(mode)));
      },
      [=](shutdown_atom, uint8_t mode) {
        if (self->state.context->pid1_link) {
          // PID 1 answers with stop_all, so the shutdown follows one path whoever started it.
          self->send(self->state.context->pid1_link, shutdown_atom_v, mode);
        } else {
          stop_everything(self, "shutdown request");
        }
      },
      [=](list_atom) { return self->delegate(self->state.root, list_atom_v); },
  };
}

caf::actor spawn_runtime(caf::actor_system& sys, runtime_args args) { return sys.spawn(runtime_actor, std::move(args)); }

}  // namespace dynamod
