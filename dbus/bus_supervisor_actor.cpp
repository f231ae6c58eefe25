#include "dbus/bus_supervisor_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <chrono>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "dbus/bus_actor.hpp"
#include "dbus/job_runner_actor.hpp"
#include "dbus/private_listener_actor.hpp"

namespace dynamod::dbus {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto kFirstDelay = std::chrono::seconds(1);
constexpr auto kLastDelay = std::chrono::seconds(30);
constexpr auto kStableAfter = std::chrono::minutes(1);

enum class child_kind { jobs, bus, listener };

struct child {
  child_kind kind = child_kind::bus;
  bus_role role = bus_role::systemd1;  // kind bus
  caf::actor actor;
  clock::time_point started{};
  std::chrono::milliseconds delay{kFirstDelay};
  uint32_t restarts = 0;
  std::string last_exit;
};

struct supervisor_state {
  static inline const char* name = "dbus_supervisor";
  runtime_context_ptr ctx;
  dbus_settings settings;
  std::vector<child> children;  // in start order: jobs first (the others hold its handle)
};
using sup_self = caf::stateful_actor<supervisor_state>*;

caf::actor& jobs_of(sup_self self) { return self->state.children.front().actor; }

void start_child(sup_self self, child& c) {
  auto& st = self->state;
  switch (c.kind) {
    case child_kind::jobs: c.actor = spawn_job_runner(self, st.ctx); break;
    case child_kind::bus: {
      bus_args args;
      args.role = c.role;
      args.ctx = st.ctx;
      args.settings = st.settings;
      args.jobs = jobs_of(self);
      c.actor = spawn_bus_actor(self, std::move(args));
      break;
    }
    case child_kind::listener: c.actor = spawn_private_listener(self, st.ctx, st.settings, jobs_of(self)); break;
  }
  c.started = clock::now();
}

void stop_all_children(sup_self self) {
  for (auto& c : self->state.children) {
    if (!c.actor) continue;
    self->unlink_from(c.actor);
    self->send_exit(c.actor, caf::exit_reason::user_shutdown);
    c.actor = caf::actor{};
  }
}

void on_child_exit(sup_self self, caf::exit_msg& msg) {
  auto& st = self->state;
  for (size_t i = 0; i < st.children.size(); ++i) {
    auto& c = st.children[i];
    if (!c.actor || c.actor.address() != msg.source) continue;
    c.actor = caf::actor{};
    c.last_exit = caf::to_string(msg.reason);
    if (clock::now() - c.started >= kStableAfter) c.delay = kFirstDelay;
    ++c.restarts;
    if (c.kind == child_kind::jobs) {
      spdlog::error("dbus: the job runner ended ({}); restarting the D-Bus actors", c.last_exit);
      stop_all_children(self);
      for (auto& each : st.children) start_child(self, each);
      return;
    }
    spdlog::info("dbus: child {} ended ({}); a new one in {} ms", i, c.last_exit, c.delay.count());
    self->delayed_send(self, c.delay, start_atom_v, static_cast<uint32_t>(i));
    c.delay = std::min<std::chrono::milliseconds>(kLastDelay, c.delay * 2);
    return;
  }
  // Not a child: our parent (the runtime) is going.
  if (msg.reason) {
    stop_all_children(self);
    self->quit(msg.reason);
  }
}

caf::behavior bus_supervisor(sup_self self, runtime_context_ptr ctx, dbus_settings settings) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.settings = std::move(settings);
  // The gate systemd's clients check before they talk to a manager at all (sd_booted()).
  ::mkdir(st.settings.systemd_dir.c_str(), 0755);
  if (::mkdir((st.settings.systemd_dir + "/system").c_str(), 0755) < 0 && errno != EEXIST) {
    spdlog::warn("dbus: cannot create {}/system: {}", st.settings.systemd_dir, strerror(errno));
  }
  auto make = [](child_kind kind, bus_role role) {
    child c;
    c.kind = kind;
    c.role = role;
    return c;
  };
  st.children.push_back(make(child_kind::jobs, bus_role::systemd1));
  for (auto role : {bus_role::systemd1, bus_role::hostname1, bus_role::timedate1, bus_role::locale1, bus_role::login1}) {
    st.children.push_back(make(child_kind::bus, role));
  }
  st.children.push_back(make(child_kind::listener, bus_role::private_systemd1));
  for (auto& c : st.children) start_child(self, c);
  self->set_exit_handler([=](caf::exit_msg& msg) { on_child_exit(self, msg); });
  return {
      [=](start_atom, uint32_t index) {
        auto& s = self->state;
        if (index < s.children.size() && !s.children[index].actor) start_child(self, s.children[index]);
      },
      [=](tree_atom) -> caf::result<std::string> {
        auto& s = self->state;
        auto node = std::make_shared<nlohmann::json>(nlohmann::json{{"kind", "dbus_supervisor"},
                                                                    {"name", "dbus"},
                                                                    {"state", "running"},
                                                                    {"strategy", "one_for_one"},
                                                                    {"mailbox", self->mailbox().size()},
                                                                    {"children", nlohmann::json::array()}});
        auto slots = std::make_shared<std::vector<nlohmann::json>>(s.children.size());
        auto pending = std::make_shared<size_t>(s.children.size() + 1);
        auto rp = self->make_response_promise<std::string>();
        auto one = [=]() mutable {
          if (--*pending > 0) return;
          for (auto& j : *slots) (*node)["children"].push_back(std::move(j));
          rp.deliver(json_text(*node));
        };
        for (size_t i = 0; i < s.children.size(); ++i) {
          const auto& c = s.children[i];
          nlohmann::json extra{{"restarts", c.restarts}, {"last_exit", c.last_exit}};
          if (!c.actor) {
            (*slots)[i] = {{"kind", c.kind == child_kind::bus ? "dbus_connection" : "dbus_actor"},
                           {"name", c.kind == child_kind::bus ? bus_name_of(c.role) : "private listener"},
                           {"state", "restarting"},
                           {"restarts", c.restarts},
                           {"last_exit", c.last_exit}};
            one();
            continue;
          }
          self->request(c.actor, std::chrono::seconds(5), tree_atom_v)
              .then(
                  [=](const std::string& json) mutable {
                    auto part = nlohmann::json::parse(json, nullptr, false);
                    if (part.is_object()) part.update(extra);
                    (*slots)[i] = std::move(part);
                    one();
                  },
                  [=](caf::error& err) mutable {
                    (*slots)[i] = {{"kind", "dbus_actor"}, {"state", "not answering: " + caf::to_string(err)}};
                    one();
                  });
        }
        one();
        return rp;
      },
  };
}

}  // namespace

caf::actor spawn_bus_supervisor(caf::local_actor* parent, runtime_context_ptr ctx, dbus_settings settings) {
  return parent->spawn<caf::linked>(bus_supervisor, std::move(ctx), std::move(settings));
}

}  // namespace dynamod::dbus
