#include "actors/service_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <unistd.h>

#include "actors/exit_reasons.hpp"
#include "actors/messages.hpp"
#include "runtime/console_status.hpp"
#include "runtime/process/spawn.hpp"
#include "runtime/process/wait_status.hpp"

namespace dynamod {

struct service_state {
  service_args args;
  enum class phase { waiting, running, stopping } phase = phase::waiting;
  pid_t pid = 0;
  uint64_t timer_generation = 0;
  static inline const char* name = "service";
};

namespace {

using self_ptr = caf::stateful_actor<service_state>*;

const service_config& config(self_ptr self) { return *self->state.args.config; }

void report(self_ptr self, const char* state, std::string detail = {}) {
  self->send(self->state.args.supervisor,
             service_report{config(self).name, state, static_cast<int32_t>(self->state.pid), std::move(detail)});
}

std::vector<std::string> service_environment() {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "LANG=C.UTF-8"};
}

void start_process(self_ptr self) {
  auto& st = self->state;
  const auto& cfg = config(self);
  spawn_spec spec;
  spec.argv = cfg.exec;
  spec.env = service_environment();
  spec.stdout_fd = STDOUT_FILENO;
  spec.stderr_fd = STDERR_FILENO;
  const spawn_result r = spawn_process(spec);
  if (!r.ok()) {
    const std::string why = r.describe();
    spdlog::error("{}: cannot start {}: {}", cfg.name, cfg.exec.front(), why);
    st.args.context->console->failed("Failed to start " + cfg.name + ": " + why);
    self->quit(make_error(service_exit::start_failed, why));
    return;
  }
  st.pid = r.pid;
  st.phase = service_state::phase::running;
  self->send(st.args.context->reaper, watch_pid_atom_v, static_cast<int>(r.pid), caf::actor_cast<caf::actor>(self));
  spdlog::info("{}: started (pid {})", cfg.name, r.pid);
  st.args.context->console->ok("Started " + cfg.name + ".");
  report(self, "running");
}

void kill_process(self_ptr self, int signo) {
  const pid_t pid = self->state.pid;
  if (pid <= 0) return;
  // The service leads its own process group (setsid): signal the group, so helpers it forked go too.
  if (::kill(-pid, signo) < 0) ::kill(pid, signo);
}

}  // namespace

static caf::behavior service_actor(self_ptr self, service_args args) {
  self->state.args = std::move(args);
  // Never let a C++ exception escape as an opaque runtime_error: report it as a failed start.
  self->set_exception_handler([=](std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return make_error(service_exit::start_failed, std::string{"internal error: "} + e.what());
    }
  });
  if (self->state.args.start_delay.count() > 0) {
    report(self, "waiting", "restart delay");
    self->delayed_send(self, self->state.args.start_delay, delay_done_atom_v);
  } else {
    self->send(self, delay_done_atom_v);
  }
  return {
      [=](delay_done_atom) {
        if (self->state.phase == service_state::phase::waiting) start_process(self);
      },
      [=](child_exit_atom, int pid, int status) {
        auto& st = self->state;
        if (pid != st.pid) return;
        const process_exit how = process_exit::from_wait_status(status);
        const bool requested = st.phase == service_state::phase::stopping;
        st.pid = 0;
        spdlog::info("{}: process {} {}", config(self).name, pid, how.describe());
        if (requested) {
          self->quit(make_error(service_exit::shutdown));
        } else if (how.clean()) {
          self->quit();
        } else if (how.how == process_exit::kind::exited) {
          self->quit(make_error(service_exit::exited, how.code));
        } else {
          self->quit(make_error(how.how == process_exit::kind::dumped ? service_exit::dumped : service_exit::killed,
                                how.code));
        }
      },
      [=](stop_atom) {
        auto& st = self->state;
        if (st.phase == service_state::phase::waiting || st.pid == 0) {
          self->quit(make_error(service_exit::shutdown));
          return;
        }
        if (st.phase == service_state::phase::stopping) return;
        st.phase = service_state::phase::stopping;
        report(self, "stopping");
        kill_process(self, config(self).stop_signal);
        kill_process(self, SIGCONT);
        self->delayed_send(self, config(self).stop_timeout, timeout_atom_v, ++st.timer_generation);
      },
      [=](timeout_atom, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation || st.phase != service_state::phase::stopping) return;
        spdlog::warn("{}: did not stop within {} ms, sending SIGKILL", config(self).name,
                     config(self).stop_timeout.count());
        kill_process(self, SIGKILL);
      },
  };
}

caf::actor spawn_service(caf::event_based_actor* supervisor, service_args args) {
  return supervisor->spawn<caf::linked>(service_actor, std::move(args));
}

}  // namespace dynamod
