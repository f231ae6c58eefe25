#include "actors/runtime_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <malloc.h>
#include <filesystem>
#include <set>

#include "actors/control_listener_actor.hpp"
#include "actors/dependency_tracker_actor.hpp"
#include "actors/exit_reasons.hpp"
#include "actors/messages.hpp"
#include "actors/notify_socket_actor.hpp"
#include "actors/pid1_link_actor.hpp"
#include "actors/reaper_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/console_status.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

namespace {

struct runtime_state {
  runtime_context_ptr context;
  caf::actor root;
  std::map<std::string, std::string> disabled;
  bool stopping = false;
  static inline const char* name = "runtime";
};

using self_ptr = caf::stateful_actor<runtime_state>*;

// Stops every service in order, then tells PID 1 (if any) and quits.
void stop_everything(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  spdlog::info("stopping all services ({})", why);
  auto done = [=] {
    if (self->state.context->pid1_link) self->send(self->state.context->pid1_link, stopped_atom_v);
    self->quit(caf::exit_reason::user_shutdown);
  };
  self->request(st.root, caf::infinite, stop_all_atom_v)
      .then([=](stopped_atom) {
        spdlog::info("all services stopped");
        done();
      },
            [=](caf::error& err) {
              spdlog::error("stopping services failed: {}", caf::to_string(err));
              done();
            });
}

// Processes recorded by a previous runtime for services that no longer exist are ours to stop.
void stop_orphaned_services(const runtime_paths& paths, const plan_node& plan) {
  std::set<std::string> known;
  for (const auto& s : services_in_order(plan)) known.insert(s->name);
  const adoption_store store{paths.state_dir + "/services"};
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(store.dir(), ec)) {
    if (entry.path().extension() != ".state") continue;
    const std::string name = entry.path().stem().string();
    if (known.count(name)) continue;
    if (auto r = store.load_live(name)) {
      spdlog::warn("{} (pid {}) is no longer configured: stopping it", name, r->pid);
      ::kill(-r->pid, SIGTERM);
      ::kill(r->pid, SIGTERM);
    }
    store.remove(name);
  }
}

}  // namespace

static caf::behavior runtime_actor(self_ptr self, runtime_args args) {
  auto ctx = std::make_shared<runtime_context>();
  ctx->paths = args.paths;
  ctx->user_mode = args.user_mode;
  ctx->loop = args.loop;
  ctx->console = args.console;
  if (args.init_fd >= 0) ctx->pid1_link = spawn_pid1_link(self, args.init_fd, args.loop);
  ctx->reaper = spawn_reaper(self, ctx->pid1_link);
  args.loop->route_signal(SIGCHLD, ctx->reaper);
  if (ctx->pid1_link) self->send(ctx->pid1_link, reaper_atom_v, ctx->reaper);
  if (args.notify_fd >= 0) ctx->notify = spawn_notify_socket(self, args.notify_fd, ctx);
  ctx->tracker = spawn_dependency_tracker(self, services_in_order(args.plan), ctx);
  self->state.context = ctx;
  self->state.disabled = args.disabled;
  stop_orphaned_services(args.paths, args.plan);
  const size_t count = services_in_order(args.plan).size();
  self->state.root = spawn_supervisor(self, supervisor_args{std::move(args.plan), ctx, true});
  if (args.control_fd >= 0) spawn_control_listener(self, args.control_fd, ctx);
  if (ctx->pid1_link) self->send(ctx->pid1_link, ready_atom_v);
  spdlog::info("runtime ready: {} service(s), {} disabled", count, args.disabled.size());
  // Starting everything allocates much that is freed again; give it back to the system once boot settled.
  self->delayed_send(self, std::chrono::seconds(3), tick_atom_v);

  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.root.address()) {
      if (st.stopping) return;  // expected: the root quits once it stopped everything
      const std::string why = describe_exit(msg.reason);
      spdlog::critical("the root supervisor gave up: {}", why);
      if (ctx->pid1_link) self->send(ctx->pid1_link, give_up_atom_v, why);
      self->quit(msg.reason);
      return;
    }
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
          case SIGINT:
            if (self->state.context->pid1_link) {
              // Under PID 1 a SIGTERM means "go away" (e.g. PID 1 dropped our channel), not "stop the
              // services": they keep running and the next runtime adopts them.
              spdlog::warn("{}: exiting, services keep running", signo == SIGTERM ? "SIGTERM" : "SIGINT");
              self->quit(caf::exit_reason::kill);
            } else {
              stop_everything(self, signo == SIGTERM ? "SIGTERM" : "SIGINT");
            }
            break;
          default: break;
        }
      },
      [=](tick_atom) { ::malloc_trim(0); },
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
      [=](list_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        auto add_disabled = [=](const std::string& json) mutable {
          auto list = nlohmann::json::parse(json, nullptr, false);
          if (!list.is_array()) list = nlohmann::json::array();
          for (const auto& [name, why] : self->state.disabled) {
            list.push_back({{"name", name}, {"state", "disabled"}, {"pid", 0}, {"restarts", 0}, {"detail", why},
                            {"supervisor", ""}, {"last_exit", ""}, {"status_text", ""}});
          }
          rp.deliver(list.dump());
        };
        self->request(self->state.root, std::chrono::seconds(10), list_atom_v)
            .then(add_disabled, [=](caf::error&) mutable { add_disabled("[]"); });
        return rp;
      },
  };
}

caf::actor spawn_runtime(caf::actor_system& sys, runtime_args args) { return sys.spawn(runtime_actor, std::move(args)); }

}  // namespace dynamod
