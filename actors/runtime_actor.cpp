#include "actors/runtime_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <malloc.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>
#include <utility>
#include <vector>

#include "actors/control_listener_actor.hpp"
#include "actors/dependency_tracker_actor.hpp"
#include "actors/exit_reasons.hpp"
#include "actors/file_io_actor.hpp"
#include "actors/json_text.hpp"
#include "dbus/bus_supervisor_actor.hpp"
#include "actors/log_sink_actor.hpp"
#include "actors/messages.hpp"
#include "actors/notify_socket_actor.hpp"
#include "actors/pid1_link_actor.hpp"
#include "actors/reaper_actor.hpp"
#include "actors/supervisor_actor.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/config/config_loader.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/config/keep_running.hpp"
#include "runtime/console_status.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/state/adoption_record.hpp"

namespace dynamod {

namespace {

struct runtime_state {
  runtime_context_ptr context;
  caf::actor root;
  std::map<std::string, std::string> disabled;
  std::map<std::string, caf::actor> directory;  // service -> the supervisor that owns it
  plan_node plan;                                // what runs now: reload keeps what a broken file would lose
  std::vector<caf::actor> system_actors;        // shown in the live tree
  // Everyone who asked for the tree while one is being built gets that one: a build asks every actor with a
  // timeout, and each timeout fires later as a message even when answered, so concurrent builds multiply the
  // work that clients leave behind.
  std::vector<caf::typed_response_promise<std::string>> tree_waiters;
  caf::actor dbus_face;                         // the D-Bus supervisor, if the D-Bus face is on
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool stopping = false;
  bool stopped_reported = false;
  bool root_gone = false;  // the root gave up (give-up = poweroff/reboot): nothing is left to stop
  std::atomic<bool>* stopped_everything = nullptr;  // runtime_args
  static inline const char* name = "runtime";
};

using self_ptr = caf::stateful_actor<runtime_state>*;

// What PID 1 prints after a handover ("runtime reports every service stopped", "shutdown requested by the
// runtime") follows what the runtime said before it: the console writer gets this long to catch up.
constexpr std::chrono::milliseconds kConsoleHandover{250};
constexpr std::chrono::seconds kDbusRestartDelay{5};

void report_stopped_and_quit(self_ptr self) {
  if (std::exchange(self->state.stopped_reported, true)) return;
  if (auto* console = self->state.context->console) console->flush(kConsoleHandover);
  if (self->state.context->pid1_link) self->send(self->state.context->pid1_link, stopped_atom_v);
  self->quit(caf::exit_reason::user_shutdown);
}

// Stops every service in order, then tells PID 1 (if any) and quits.
void stop_everything(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.stopping) return;
  st.stopping = true;
  spdlog::info("stopping all services ({})", why);
  auto done = [=] { report_stopped_and_quit(self); };
  if (st.root_gone) {
    done();  // the root stopped every child before it exited
    return;
  }
  self->request(st.root, caf::infinite, stop_all_atom_v)
      .then([=](stopped_atom) {
        spdlog::info("all services stopped");
        if (self->state.stopped_everything) *self->state.stopped_everything = true;
        done();
      },
            [=](caf::error& err) {
              spdlog::error("stopping services failed: {}", caf::to_string(err));
              done();
            });
}

// Orphans get the default stop: SIGTERM, then SIGKILL (and cgroup.kill) after this, as a service's stop-timeout.
const std::chrono::milliseconds kOrphanStopTimeout = service_config{}.stop_timeout;

// Processes recorded by a previous runtime for services that no longer exist are ours to stop. One whose
// file is broken now is not gone: it keeps running, unmanaged, until the file is fixed and a reload adopts it.
// Returns those sent their stop signal: their records stay until they are gone (kill_orphan_if_alive).
// PID 1 holds every service's log FIFOs across runtime restarts; those of a service gone from the configuration
// are let go once its processes are dealt with (nobody will read them again).
void release_fifos(const runtime_paths& paths, const caf::actor& pid1_link, const std::string& name) {
  if (!pid1_link) return;
  for (bool err : {false, true}) caf::anon_send(pid1_link, drop_fifo_atom_v, log_fifo_path(paths, name, err));
}
}  // namespace

orphan_scan stop_orphaned_services(const runtime_paths& paths, const plan_node& plan,
                                   const std::map<std::string, std::string>& disabled) {
  orphan_scan out;
  auto& stopping = out.stopping;
  std::set<std::string> known;
  for (const auto& s : services_in_order(plan)) known.insert(s->name);
  const adoption_store store{records_dir(paths)};
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(store.dir(), ec)) {
    if (entry.path().extension() != ".state") continue;
    const std::string name = entry.path().stem().string();
    if (known.count(name)) continue;
    auto r = store.load_live(name);
    if (r && !r->done && disabled.count(name)) {
      spdlog::warn("{} (pid {}) keeps running unmanaged: {}; fix it and reload to manage it again", name, r->pid,
                   disabled.at(name));
      continue;
    }
    if (r && !r->done) {
      spdlog::warn("{} (pid {}) is no longer configured: stopping it", name, r->pid);
      if (::kill(-r->pid, SIGTERM) < 0) ::kill(r->pid, SIGTERM);
      ::kill(-r->pid, SIGCONT);  // a stopped process cannot act on it
      stopping.push_back({name, *r});
      continue;
    }
    store.remove(name);
    out.released.push_back(name);
  }
  return out;
}

namespace {

// The stop timeout of an orphan passed: if the same process still runs, SIGKILL it, its process group and its
// cgroup (read from /proc, so whatever it double-forked goes too).
void kill_orphan_if_alive(const runtime_context& ctx, const std::string& name, pid_t pid, uint64_t start_time) {
  auto proc = read_proc_status(pid);
  if (proc && !proc->zombie && proc->start_time == start_time) {
    spdlog::warn("{} (pid {}) did not stop within {} ms: killing it", name, pid, kOrphanStopTimeout.count());
    if (!ctx.cgroup_base.empty()) {
      std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("0::", 0) != 0) continue;
        const std::string dir = std::filesystem::path(ctx.cgroup_base).parent_path().string() + line.substr(3);
        if (dir.rfind(ctx.cgroup_base + "/", 0) == 0) kill_cgroup(dir);
      }
    }
    if (::kill(-pid, SIGKILL) < 0) ::kill(pid, SIGKILL);
  }
  const adoption_store store{records_dir(ctx.paths)};
  auto r = store.load(name);
  if (r && (r->intent || (r->pid == pid && r->start_time == start_time))) store.remove(name);
  release_fifos(ctx.paths, ctx.pid1_link, name);
}

caf::error unknown_service(const std::string& name) {
  return caf::make_error(caf::sec::invalid_argument, "unknown service '" + name + "'");
}

// Hands a request about one service to the supervisor that owns it, which answers the client directly.
template <class... Ts>
caf::delegated<caf::message> to_owner(self_ptr self, const std::string& name, Ts... xs) {
  auto it = self->state.directory.find(name);
  if (it != self->state.directory.end()) return self->delegate(it->second, xs...);
  auto d = self->state.disabled.find(name);
  // Not a service: perhaps a sub-supervisor the root left failed (dynamodctl start mid), else root says unknown.
  if (d == self->state.disabled.end() && self->state.root && !self->state.root_gone) {
    return self->delegate(self->state.root, xs...);
  }
  auto rp = self->make_response_promise();
  rp.deliver(d != self->state.disabled.end()
                 ? caf::make_error(caf::sec::invalid_argument, "service '" + name + "' is disabled: " + d->second)
                 : unknown_service(name));
  return {};
}

// The live actor tree: this runtime, its system actors, and the supervision tree below the root; delivered to
// every tree_waiter.
void live_tree(self_ptr self) {
  auto& st = self->state;
  const auto& ctx = *st.context;
  auto node = std::make_shared<nlohmann::json>(nlohmann::json{
      {"kind", "runtime"},
      {"name", "dynamod-runtime"},
      {"state", st.stopping ? "stopping" : "running"},
      {"pid", ::getpid()},
      {"under", ctx.pid1_link ? "dynamod-init (PID 1)" : ctx.user_mode ? "user mode" : "standalone"},
      {"uptime_ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - st.started).count()},
      {"mailbox", self->mailbox().size()},
      {"children", nlohmann::json::array()}});
  std::vector<caf::actor> parts = st.system_actors;
  parts.push_back(st.root);
  auto slots = std::make_shared<std::vector<nlohmann::json>>(parts.size());
  auto pending = std::make_shared<size_t>(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    auto done = [=](nlohmann::json part) {
      (*slots)[i] = std::move(part);
      if (--*pending > 0) return;
      for (auto& s : *slots) {
        if (!s.is_null()) (*node)["children"].push_back(std::move(s));
      }
      const std::string text = json_text(*node);
      for (auto& waiter : std::exchange(self->state.tree_waiters, {})) waiter.deliver(text);
    };
    self->request(parts[i], std::chrono::seconds(10), tree_atom_v)
        .then([=](const std::string& json) { done(nlohmann::json::parse(json, nullptr, false)); },
              [=](caf::error& err) { done({{"kind", "unknown"}, {"state", "not answering: " + caf::to_string(err)}}); });
  }
}

nlohmann::json describe_errors(const config_tree& tree) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : tree.errors) errors.push_back(e.describe(false));  // exact: JSON escapes, clients print safely
  return errors;
}

}  // namespace

static caf::behavior runtime_actor(self_ptr self, runtime_args args) {
  auto ctx = std::make_shared<runtime_context>();
  ctx->paths = args.paths;
  ctx->user_mode = args.user_mode;
  ctx->cgroup_base = args.cgroup_base;
  ctx->nsinit = args.nsinit;
  ctx->inaccessible_file = args.inaccessible_file;
  ctx->log_group = args.log_group;
  ctx->dbus = args.dbus;
  ctx->loop = args.loop;
  ctx->journal = args.journal;
  ctx->console = args.console;
  ctx->runtime = caf::actor_cast<caf::actor>(self);
  ctx->file_io = spawn_file_io(self, records_dir(args.paths));
  if (args.init_fd >= 0) ctx->pid1_link = spawn_pid1_link(self, args.init_fd, args.loop);
  ctx->reaper = spawn_reaper(self, ctx->pid1_link, args.loop);
  args.loop->route_signal(SIGCHLD, ctx->reaper);
  if (ctx->pid1_link) self->send(ctx->pid1_link, reaper_atom_v, ctx->reaper);
  if (args.notify_fd >= 0) ctx->notify = spawn_notify_socket(self, args.notify_fd, ctx);
  ctx->tracker = spawn_dependency_tracker(self, services_in_order(args.plan), ctx);
  self->state.context = ctx;
  self->state.stopped_everything = args.stopped_everything;
  self->state.disabled = args.disabled;
  for (const auto& name : args.orphans.released) release_fifos(args.paths, ctx->pid1_link, name);
  for (auto& o : args.orphans.stopping) {
    self->delayed_send(self, kOrphanStopTimeout, timeout_atom_v, o.name, static_cast<int32_t>(o.record.pid),
                       o.record.start_time);
  }
  const size_t count = services_in_order(args.plan).size();
  self->state.plan = args.plan;
  self->state.root = spawn_supervisor(self, supervisor_args{std::move(args.plan), ctx, true, {}});
  caf::actor listener = args.control_fd >= 0 ? spawn_control_listener(self, args.control_fd, ctx) : caf::actor{};
  // The D-Bus face starts with the services: its actors wait for the system bus themselves.
  caf::actor dbus_face = ctx->dbus.enabled ? dbus::spawn_bus_supervisor(self, ctx, ctx->dbus) : caf::actor{};
  self->state.dbus_face = dbus_face;
  for (const auto& a : {ctx->pid1_link, ctx->reaper, ctx->notify, ctx->tracker, ctx->file_io, listener, dbus_face}) {
    if (a) self->state.system_actors.push_back(a);
  }
  if (ctx->pid1_link) self->send(ctx->pid1_link, ready_atom_v);
  spdlog::info("runtime ready: {} service(s), {} disabled", count, args.disabled.size());
  // Starting everything allocates much that is freed again; give it back to the system once boot settled.
  self->delayed_send(self, std::chrono::seconds(3), tick_atom_v);

  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.root.address()) {
      if (st.stopping) {
        if (classify(msg.reason) != exit_class::abnormal && st.stopped_everything) *st.stopped_everything = true;
        // Expected: the root quits once it stopped everything. Whether or not its answer came first (a
        // give-up racing with the stop), the stop is over.
        report_stopped_and_quit(self);
        return;
      }
      // Under give-up = "degrade" (the default) the root never gives up; it gets here if it crashed.
      const std::string why = describe_exit(msg.reason);
      const auto action = st.plan.supervisor ? st.plan.supervisor->give_up : give_up_action::emergency;
      spdlog::critical("the root supervisor {}: {} (give-up = {})", action == give_up_action::degrade ? "crashed" : "gave up",
                       why, to_string(action));
      if (ctx->pid1_link && (action == give_up_action::poweroff || action == give_up_action::reboot)) {
        // systemd's FailureAction: the services are stopped already (OTP give-up); the shutdown takes the one
        // path every shutdown takes: PID 1 answers stop_all, we report stopped and exit.
        st.root_gone = true;
        ctx->console->failed("The root supervisor gave up: " + why + "; " + to_string(action) + ".");
        const auto mode =
            action == give_up_action::poweroff ? protocol::power_mode::poweroff : protocol::power_mode::reboot;
        ctx->console->flush(kConsoleHandover);
        self->send(ctx->pid1_link, shutdown_atom_v, static_cast<uint8_t>(mode));
        return;
      }
      // emergency (and, without PID 1, every action): PID 1 opens the emergency shell and restarts us. A crash
      // under degrade (a bug) ends only this runtime: PID 1 restarts it and the new one adopts the services.
      if (ctx->pid1_link && action != give_up_action::degrade) self->send(ctx->pid1_link, give_up_atom_v, why);
      self->quit(msg.reason);
      return;
    }
    if (ctx->pid1_link && msg.source == ctx->pid1_link.address()) {
      // Without PID 1 we cannot report or shut down properly; exit and let PID 1 restart us.
      spdlog::error("lost the link to dynamod-init: {}", caf::to_string(msg.reason));
      self->quit(msg.reason);
      return;
    }
    if (st.dbus_face && msg.source == st.dbus_face.address()) {
      // The D-Bus face is not what the services need to run: a failure there (a bug) ends only it, and a new one
      // starts a little later.
      spdlog::error("the D-Bus actors failed: {}; starting them again in {}s", describe_exit(msg.reason),
                    kDbusRestartDelay.count());
      auto& parts = st.system_actors;
      parts.erase(std::remove(parts.begin(), parts.end(), st.dbus_face), parts.end());
      st.dbus_face = caf::actor{};
      if (!st.stopping) self->delayed_send(self, kDbusRestartDelay, start_atom_v);
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
      [=](start_atom) {  // the D-Bus face again, after it failed
        auto& st = self->state;
        if (st.dbus_face || st.stopping || !st.context->dbus.enabled) return;
        st.dbus_face = dbus::spawn_bus_supervisor(self, st.context, st.context->dbus);
        st.system_actors.push_back(st.dbus_face);
      },
      [=](timeout_atom, const std::string& name, int32_t pid, uint64_t start_time) {
        if (self->state.directory.count(name)) return;  // configured again meanwhile (reload): adopted, not ours
        kill_orphan_if_alive(*self->state.context, name, pid, start_time);
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
      [=](child_of_atom, const std::string& name, const caf::actor& supervisor) {
        if (supervisor) {
          self->state.directory[name] = supervisor;
        } else if (auto it = self->state.directory.find(name); it != self->state.directory.end()) {
          // Only its owner lets go: a service moved to another supervisor by a reload may be registered
          // there already.
          if (it->second.address() == self->current_sender()) self->state.directory.erase(it);
        }
      },
      [=](status_atom, const std::string& name) -> caf::delegated<caf::message> {
        auto d = self->state.disabled.find(name);
        if (d != self->state.disabled.end() && !self->state.directory.count(name)) {
          auto rp = self->make_response_promise();
          rp.deliver(json_text(nlohmann::json{{"name", name}, {"state", "disabled"}, {"pid", 0}, {"detail", d->second}}));
          return {};
        }
        return to_owner(self, name, status_atom_v, name);
      },
      [=](start_atom, const std::string& name, bool wait) { return to_owner(self, name, start_atom_v, name, wait); },
      [=](stop_atom, const std::string& name, bool wait) { return to_owner(self, name, stop_atom_v, name, wait); },
      [=](restart_atom, const std::string& name, bool wait) { return to_owner(self, name, restart_atom_v, name, wait); },
      [=](log_sink_atom, const std::string& name) { return to_owner(self, name, log_sink_atom_v, name); },
      [=](reset_failed_atom, const std::string& name) { return to_owner(self, name, reset_failed_atom_v, name); },
      [=](tree_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        self->state.tree_waiters.push_back(rp);
        if (self->state.tree_waiters.size() == 1) live_tree(self);
        return rp;
      },
      [=](check_atom) {
        config_tree tree = load_config_tree(self->state.context->paths.config_dir);
        return json_text(nlohmann::json{{"config_dir", self->state.context->paths.config_dir},
                              {"services", tree.services.size()},
                              {"supervisors", tree.supervisors.size()},
                              {"errors", describe_errors(tree)},
                              {"disabled", tree.disabled}});
      },
      [=](reload_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (st.stopping) return caf::make_error(caf::sec::runtime_error, "the system is shutting down");
        config_tree tree = load_config_tree(st.context->paths.config_dir);
        auto errors = describe_errors(tree);
        for (const auto& e : tree.errors) spdlog::error("reload: {}", e.describe());
        auto kept = keep_running_definitions(tree, st.plan);
        st.disabled = tree.disabled;
        auto disabled = tree.disabled;
        plan_node plan = make_supervision_plan(std::move(tree));
        st.plan = plan;
        self->send(st.context->tracker, reload_atom_v, services_in_order(plan));
        auto rp = self->make_response_promise<std::string>();
        self->request(st.root, std::chrono::seconds(60), reload_atom_v, std::move(plan))
            .then(
                [=](const std::string& json) mutable {
                  auto diff = nlohmann::json::parse(json, nullptr, false);
                  if (!diff.is_object()) diff = nlohmann::json::object();
                  diff["errors"] = errors;
                  diff["disabled"] = disabled;
                  diff["kept"] = kept;
                  spdlog::info("reload: {}", json_text(diff));
                  rp.deliver(json_text(diff));
                },
                [=](caf::error& err) mutable { rp.deliver(err); });
        return rp;
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
          rp.deliver(json_text(list));
        };
        self->request(self->state.root, std::chrono::seconds(10), list_atom_v)
            .then(add_disabled, [=](caf::error&) mutable { add_disabled("[]"); });
        return rp;
      },
  };
}

caf::actor spawn_runtime(caf::actor_system& sys, runtime_args args) { return sys.spawn(runtime_actor, std::move(args)); }

}  // namespace dynamod
