#include "actors/supervisor_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/exit_reasons.hpp"
#include "actors/messages.hpp"
#include "actors/service_actor.hpp"
#include "runtime/console_status.hpp"

namespace dynamod {

struct supervisor_child {
  std::shared_ptr<const service_config> config;
  caf::actor incarnation;  // strong handle: an unreferenced idle actor would be collected (CAF)
  service_report last;
  int restarts = 0;
  std::string last_exit;
};

struct supervisor_state {
  supervisor_args args;
  std::vector<supervisor_child> children;
  bool stopping = false;
  caf::response_promise stop_promise;
  static inline const char* name = "supervisor";
};

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

void start_child(self_ptr self, size_t index, std::chrono::milliseconds delay) {
  auto& child = self->state.children[index];
  service_args args{child.config, delay, self->state.args.context, caf::actor_cast<caf::actor>(self)};
  child.incarnation = spawn_service(self, std::move(args));
  child.last = service_report{child.config->name, "starting", 0, {}};
}

// OTP: children terminate one at a time, last started first.
void stop_next(self_ptr self) {
  auto& children = self->state.children;
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    if (it->incarnation) {
      self->send(it->incarnation, stop_atom_v);
      return;
    }
  }
  spdlog::info("supervisor {}: all children stopped", self->state.args.name);
  if (self->state.stop_promise.pending()) self->state.stop_promise.deliver(stopped_atom_v);
  self->quit(make_error(service_exit::shutdown));
}

}  // namespace

static caf::behavior supervisor_actor(self_ptr self, supervisor_args args) {
  self->state.args = std::move(args);
  for (auto& cfg : self->state.args.services) self->state.children.push_back(supervisor_child{cfg, {}, {}, 0, {}});
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& children = self->state.children;
    auto it = std::find_if(children.begin(), children.end(),
                           [&](const supervisor_child& c) { return c.incarnation && c.incarnation.address() == msg.source; });
    if (it == children.end()) {
      // The only other link is the parent: it is going away. The children's actors die with us and
      // their processes keep running, so the next runtime can re-adopt them.
      if (msg.reason) self->quit(msg.reason);
      return;
    }
    it->incarnation = nullptr;
    it->last_exit = describe_exit(msg.reason);
    it->last.state = "stopped";
    it->last.pid = 0;
    if (self->state.stopping) {
      spdlog::info("{}: stopped ({})", it->config->name, it->last_exit);
      self->state.args.context->console->ok("Stopped " + it->config->name + ".");
      stop_next(self);
      return;
    }
    spdlog::warn("{}: {}; restarting in {} ms", it->config->name, it->last_exit, it->config->restart_delay.count());
    ++it->restarts;
    start_child(self, static_cast<size_t>(it - children.begin()), it->config->restart_delay);
  });
  for (size_t i = 0; i < self->state.children.size(); ++i) start_child(self, i, std::chrono::milliseconds{0});
  return {
      [=](const service_report& r) {
        for (auto& c : self->state.children) {
          if (c.config->name == r.name) c.last = r;
        }
      },
      [=](stop_all_atom) -> caf::result<stopped_atom> {
        auto rp = self->make_response_promise<stopped_atom>();
        if (!self->state.stopping) {
          self->state.stopping = true;
          self->state.stop_promise = rp;
          stop_next(self);
        }
        return rp;
      },
      [=](list_atom) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& c : self->state.children) {
          out.push_back({{"name", c.config->name},
                         {"state", c.last.state},
                         {"pid", c.last.pid},
                         {"restarts", c.restarts},
                         {"last_exit", c.last_exit}});
        }
        return out.dump();
      },
  };
}

caf::actor spawn_supervisor(caf::event_based_actor* parent, supervisor_args args) {
  return parent->spawn<caf::linked>(supervisor_actor, std::move(args));
}

}  // namespace dynamod
