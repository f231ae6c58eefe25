#include "dbus/bus_actor.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-id128.h>

#include <poll.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "dbus/login_state.hpp"
#include "dbus/unit_names.hpp"
#include "dbus/unit_state.hpp"
#include "dbus/unit_view_json.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod::dbus {

namespace {

constexpr int kDispatchBatch = 64;  // messages per turn; then the mailbox gets its say
constexpr auto kRuntimeTimeout = std::chrono::seconds(10);
constexpr auto kFirstRetry = std::chrono::milliseconds(100);
constexpr auto kLastRetry = std::chrono::seconds(2);

bool is_systemd1(bus_role r) { return r == bus_role::systemd1 || r == bus_role::private_systemd1; }

uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

void close_connection(bus_state& st) {
  if (!st.bus) return;
  if (st.fd >= 0 && st.args.ctx && st.args.ctx->loop) st.args.ctx->loop->forget(st.fd);
  for (auto* s : st.slots) sd_bus_slot_unref(s);
  st.slots.clear();
  sd_bus_close_unref(st.bus);  // closes the fd; a private connection's fd is the bus' own
  st.bus = nullptr;
  st.fd = -1;
}

void lost(bus_state& st, int error) {
  const bool private_peer = st.args.role == bus_role::private_systemd1;
  const std::string why = error < 0 ? std::string(strerror(-error)) : "closed";
  close_connection(st);
  st.connection = "lost";
  if (private_peer) {
    st.self->quit();  // the client hung up: nothing to restart
    return;
  }
  spdlog::warn("dbus: {}: lost the system bus ({}); a new connection will wait for it", bus_name_of(st.args.role), why);
  st.self->quit(caf::make_error(caf::sec::runtime_error, "bus connection lost: " + why));
}

int on_name_acquired(sd_bus_message* reply, void* userdata, sd_bus_error*) {
  auto& st = *static_cast<bus_state*>(userdata);
  const char* name = bus_name_of(st.args.role);
  if (sd_bus_message_is_method_error(reply, nullptr)) {
    const sd_bus_error* e = sd_bus_message_get_error(reply);
    spdlog::error("dbus: cannot own {}: {}", name, e && e->message ? e->message : "refused");
    st.self->quit(caf::make_error(caf::sec::runtime_error, std::string("cannot own ") + name));
    return 1;
  }
  st.names.push_back(name);
  st.connection = "ready";
  spdlog::info("dbus: {} is on the system bus", name);
  return 1;
}

// Before any object sees a call: a sender with too many calls still waiting for the runtime is told so.
int refuse_over_limit(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& st = *static_cast<bus_state*>(userdata);
  if (!sd_bus_message_is_method_call(m, nullptr, nullptr) || !call_over_limit(m)) return 0;
  ++st.refused;
  reply_error(m, "org.freedesktop.DBus.Error.LimitsExceeded", "Too many calls waiting; try again later.");
  return 1;
}

int add_objects(bus_state& st) {
  switch (st.args.role) {
    case bus_role::systemd1:
    case bus_role::private_systemd1: {
      int r = add_systemd1_manager(st);
      if (r >= 0) r = add_systemd1_units(st);
      return r < 0 ? r : add_systemd1_jobs(st);
    }
    case bus_role::hostname1: return add_hostname1(st);
    case bus_role::timedate1: return add_timedate1(st);
    case bus_role::locale1: return add_locale1(st);
    case bus_role::login1: {
      if (!st.login) {
        st.login = std::make_shared<login_state>();
        const auto& ctx = *st.args.ctx;
        st.login->paths = {st.args.settings.systemd_dir, st.args.settings.user_runtime_dir,
                           ctx.cgroup_base.empty() || ctx.user_mode ? "" : ctx.cgroup_base.substr(0, ctx.cgroup_base.rfind('/')),
                           !ctx.user_mode};
        login_start(st);
      }
      const int r = add_login1_manager(st);
      return r < 0 ? r : add_login1_objects(st);
    }
  }
  return -EINVAL;
}

// A new connection: to the system bus (a client saying Hello), or the server end of a private peer.
int open_connection(bus_state& st) {
  sd_bus* bus = nullptr;
  int r = sd_bus_new(&bus);
  if (r < 0) return r;
  const bool peer = st.args.role == bus_role::private_systemd1;
  if (peer) {
    sd_id128_t id;
    r = sd_id128_randomize(&id);
    if (r >= 0) r = sd_bus_set_fd(bus, st.args.peer_fd, st.args.peer_fd);
    if (r >= 0) st.args.peer_fd = -1;  // the bus owns it now
    if (r >= 0) r = sd_bus_set_server(bus, 1, id);
    if (r >= 0) r = sd_bus_negotiate_fds(bus, 1);
  } else {
    r = sd_bus_set_address(bus, st.args.settings.system_bus.c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
  }
  if (r >= 0) r = sd_bus_set_description(bus, bus_name_of(st.args.role));
  if (r >= 0) r = sd_bus_start(bus);
  if (r < 0) {
    sd_bus_close_unref(bus);
    return r;
  }
  st.bus = bus;
  st.fd = sd_bus_get_fd(bus);
  sd_bus_slot* filter = nullptr;
  r = sd_bus_add_filter(bus, &filter, refuse_over_limit, &st);
  if (r < 0) return r;
  st.slots.push_back(filter);
  r = add_objects(st);
  if (r < 0) return r;
  if (!peer) {
    sd_bus_slot* slot = nullptr;
    r = sd_bus_request_name_async(bus, &slot, bus_name_of(st.args.role), 0, on_name_acquired, &st);
    if (r < 0) return r;
    st.slots.push_back(slot);
  }
  st.connection = peer ? "connected" : "authenticating";
  return 0;
}

void try_connect(bus_state& st) {
  ++st.connect_attempts;
  const int r = open_connection(st);
  if (r >= 0) {
    pump(st);
    return;
  }
  close_connection(st);
  if (st.args.role == bus_role::private_systemd1) {
    spdlog::warn("dbus: a private connection failed to start: {}", strerror(-r));
    st.self->quit();
    return;
  }
  // The bus daemon is not up (yet): ask again, a little later each time.
  st.connection = std::string("waiting for the system bus (") + strerror(-r) + ")";
  auto delay = std::min<std::chrono::milliseconds>(kLastRetry, kFirstRetry * (1u << std::min<uint64_t>(st.connect_attempts, 5)));
  st.self->delayed_send(st.self, delay, start_atom_v);
}

void emit_job_signal(bus_state& st, bool removed, uint32_t id, const std::string& unit, const std::string& what) {
  if (!st.bus) return;
  const std::string path = "/org/freedesktop/systemd1/job/" + std::to_string(id);
  if (removed) {
    sd_bus_emit_signal(st.bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                       id, path.c_str(), unit.c_str(), what.c_str());
  } else {
    sd_bus_emit_signal(st.bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobNew", "uos", id,
                       path.c_str(), unit.c_str());
  }
  pump(st);
}

void emit_unit_changed(bus_state& st, const std::string& service, const std::string& state) {
  if (!st.bus) return;
  const std::string unit = unit_of_service(service);
  const unit_state us = service_unit_state(parse_dynamod_state(state));
  emit_properties_changed(st.bus, unit_object_path(unit), kUnitInterface,
                          {{kUnitInterface, "ActiveState", us.active_state}, {kUnitInterface, "SubState", us.sub_state}});
  pump(st);
}

}  // namespace

// CAF 0.17 destroys an actor's state when it exits (before its attached functors run): the connection goes with it.
bus_state::~bus_state() {
  close_connection(*this);
  if (login) login_close(*this);
  if (args.peer_fd >= 0) ::close(args.peer_fd);
}

const char* bus_name_of(bus_role role) {
  switch (role) {
    case bus_role::systemd1:
    case bus_role::private_systemd1: return "org.freedesktop.systemd1";
    case bus_role::hostname1: return "org.freedesktop.hostname1";
    case bus_role::timedate1: return "org.freedesktop.timedate1";
    case bus_role::locale1: return "org.freedesktop.locale1";
    case bus_role::login1: return "org.freedesktop.login1";
  }
  return "";
}

void pump(bus_state& st) {
  // A handler inside sd_bus_process (a reply callback finishing a method) may call this: the outer pump goes on
  // dispatching and re-arms when it is done (sd-bus refuses a nested sd_bus_process with EBUSY).
  if (!st.bus || st.dispatching) return;
  for (int i = 0; i < kDispatchBatch; ++i) {
    st.dispatching = true;
    const int r = sd_bus_process(st.bus, nullptr);
    st.dispatching = false;
    if (r < 0) {
      lost(st, r);
      return;
    }
    if (r == 0) break;
    if (i == kDispatchBatch - 1 && !st.pump_queued) {
      st.pump_queued = true;
      st.self->send(st.self, bus_pump_atom_v);
    }
  }
  if (!st.bus) return;  // a handler ended the actor
  if (sd_bus_is_open(st.bus) <= 0) {
    lost(st, 0);
    return;
  }
  if (st.connection == "authenticating" && sd_bus_is_ready(st.bus) > 0) st.connection = "connected";
  const int events = sd_bus_get_events(st.bus);
  if (events < 0) {
    lost(st, events);
    return;
  }
  uint32_t want = 0;
  if (events & POLLIN) want |= EPOLLIN;
  if (events & POLLOUT) want |= EPOLLOUT;
  st.args.ctx->loop->watch(st.fd, want, caf::actor_cast<caf::actor>(st.self), 0);
  uint64_t until = 0;
  if (sd_bus_get_timeout(st.bus, &until) >= 0 && until != UINT64_MAX) {
    const uint64_t now = monotonic_usec();
    const auto delay = std::chrono::microseconds(until > now ? until - now : 0);
    st.self->delayed_send(st.self, delay, bus_timer_atom_v, ++st.timer_generation);
  }
}

void with_caller(bus_state& st, sd_bus_message* m, std::function<void(caller)> then) {
  if (st.args.role == bus_role::private_systemd1) {
    then({st.args.peer_uid, std::nullopt});
    return;
  }
  const char* sender = sd_bus_message_get_sender(m);
  if (!sender || !st.bus) {
    then({});
    return;
  }
  using continuation = std::function<void(caller)>;
  auto* k = new continuation(std::move(then));
  auto on_reply = [](sd_bus_message* reply, void* userdata, sd_bus_error*) -> int {
    auto& next = *static_cast<continuation*>(userdata);
    caller c;
    if (!sd_bus_message_is_method_error(reply, nullptr) && sd_bus_message_enter_container(reply, 'a', "{sv}") > 0) {
      while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
        const char* key = nullptr;
        uint32_t value = 0;
        sd_bus_message_read(reply, "s", &key);
        const std::string k = key ? key : "";
        if ((k == "UnixUserID" || k == "ProcessID") && sd_bus_message_read(reply, "v", "u", &value) >= 0) {
          (k == "UnixUserID" ? c.uid : c.pid) = value;
        } else {
          sd_bus_message_skip(reply, "v");
        }
        sd_bus_message_exit_container(reply);
      }
    }
    next(c);
    return 1;
  };
  sd_bus_slot* slot = nullptr;
  const int r = sd_bus_call_method_async(st.bus, &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "GetConnectionCredentials", on_reply, k, "s", sender);
  if (r < 0) {
    (*k)({});
    delete k;
    return;
  }
  sd_bus_slot_set_destroy_callback(slot, [](void* userdata) { delete static_cast<continuation*>(userdata); });
  sd_bus_slot_set_floating(slot, 1);
  sd_bus_slot_unref(slot);
}

void with_caller_uid(bus_state& st, sd_bus_message* m, std::function<void(std::optional<uint32_t>)> then) {
  with_caller(st, m, [then = std::move(then)](caller c) { then(c.uid); });
}

namespace {

// The sender's credentials, asked synchronously (SD_BUS_CREDS_AUGMENT: from the bus daemon).
sd_bus_creds* current_sender_creds(sd_bus* bus, uint64_t mask) {
  sd_bus_message* m = sd_bus_get_current_message(bus);
  sd_bus_creds* creds = nullptr;
  if (!m || sd_bus_query_sender_creds(m, mask | SD_BUS_CREDS_AUGMENT, &creds) < 0) return nullptr;
  return creds;
}

}  // namespace

std::optional<uint32_t> current_sender_uid(sd_bus* bus) {
  sd_bus_creds* creds = current_sender_creds(bus, SD_BUS_CREDS_EUID);
  uid_t uid = 0;
  const bool known = creds && sd_bus_creds_get_euid(creds, &uid) >= 0;
  sd_bus_creds_unref(creds);
  return known ? std::optional<uint32_t>(uid) : std::nullopt;
}

std::optional<uint32_t> current_sender_pid(sd_bus* bus) {
  sd_bus_creds* creds = current_sender_creds(bus, SD_BUS_CREDS_PID);
  pid_t pid = 0;
  const bool known = creds && sd_bus_creds_get_pid(creds, &pid) >= 0;
  sd_bus_creds_unref(creds);
  return known ? std::optional<uint32_t>(static_cast<uint32_t>(pid)) : std::nullopt;
}

void require_root(bus_state& st, sd_bus_message* m, std::function<void()> then) {
  auto call = keep(m);
  bus_state* s = &st;
  with_caller_uid(st, m, [s, call, then = std::move(then)](std::optional<uint32_t> uid) {
    if (uid && *uid == 0) {
      then();
      return;
    }
    ++s->refused;
    spdlog::info("dbus: refused {}.{} from uid {}", sd_bus_message_get_interface(call.get()) ? sd_bus_message_get_interface(call.get()) : "?",
                 sd_bus_message_get_member(call.get()) ? sd_bus_message_get_member(call.get()) : "?",
                 uid ? std::to_string(*uid) : std::string("unknown"));
    reply_error(call.get(), SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
    pump(*s);
  });
}

void change_setting(bus_state& st, sd_bus_message* m, bool differs, std::function<std::string()> apply,
                    const char* path, const char* interface, std::vector<std::string> changed) {
  if (!differs) {
    sd_bus_reply_method_return(m, "");
    return;
  }
  auto call = keep(m);
  bus_state* s = &st;
  require_root(st, m, [s, call, apply = std::move(apply), path, interface, changed = std::move(changed)] {
    const std::string error = apply();
    if (!error.empty()) {
      spdlog::warn("dbus: {}.{}: {}", interface, sd_bus_message_get_member(call.get()), error);
      reply_error(call.get(), SD_BUS_ERROR_FAILED, error);
    } else {
      sd_bus_reply_method_return(call.get(), "");
      std::vector<const char*> names;
      for (const auto& n : changed) names.push_back(n.c_str());
      names.push_back(nullptr);
      if (names.size() > 1) sd_bus_emit_properties_changed_strv(s->bus, path, interface, const_cast<char**>(names.data()));
    }
    pump(*s);
  });
}

void with_units(bus_state& st, std::function<void(std::vector<unit_view>)> then) {
  st.self->request(st.args.ctx->runtime, kRuntimeTimeout, list_atom_v)
      .then(
          [then](const std::string& json) {
            then(units_of_list(nlohmann::json::parse(json, nullptr, false), current_time()));
          },
          [then](caf::error&) { then({}); });
}

namespace {

caf::behavior bus_actor(bus_self self, bus_args args) {
  auto& st = self->state;
  st.self = self;
  st.args = std::move(args);
  if (is_systemd1(st.args.role)) {
    if (st.args.jobs) self->send(st.args.jobs, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
    if (st.args.ctx->tracker) self->send(st.args.ctx->tracker, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
  }
  // What the Manager's counters start from; the tracker's reports keep it current.
  self->request(st.args.ctx->runtime, kRuntimeTimeout, list_atom_v).then([self](const std::string& json) {
    auto list = nlohmann::json::parse(json, nullptr, false);
    if (!list.is_array()) return;
    for (const auto& s : list) {
      if (s.is_object() && s.contains("name") && s["name"].is_string() && s.contains("state") && s["state"].is_string()) {
        self->state.service_states.emplace(s["name"].get<std::string>(), s["state"].get<std::string>());
      }
    }
  });
  self->send(self, start_atom_v);
  return {
      [=](start_atom) {
        if (!self->state.bus) try_connect(self->state);
      },
      [=](io_ready_atom, uint64_t tag, uint32_t) {
        if (tag >= kFirstLoginTag && self->state.login) {
          login_io(self->state, tag);
        } else {
          pump(self->state);
        }
      },
      [=](child_exit_atom, int pid, int status) {
        if (self->state.login) login_child_exit(self->state, pid, status);
      },
      [=](bus_pump_atom) {
        self->state.pump_queued = false;
        pump(self->state);
      },
      [=](bus_timer_atom, uint64_t generation) {
        if (generation == self->state.timer_generation) pump(self->state);
      },
      [=](inhibit_due_atom, uint64_t generation) {
        if (self->state.login) login_shutdown_due(self->state, generation);
      },
      [=](job_event_atom, bool removed, uint32_t id, const std::string& unit, const std::string& what) {
        emit_job_signal(self->state, removed, id, unit, what);
      },
      [=](unit_event_atom, const std::string& service, const std::string& state) {
        self->state.service_states[service] = state;
        emit_unit_changed(self->state, service, state);
      },
      [=](tree_atom) {
        auto& st = self->state;
        nlohmann::json node{{"kind", "dbus_connection"},
                            {"name", st.args.role == bus_role::private_systemd1 ? "systemd1 (private, uid " +
                                                                                        std::to_string(st.args.peer_uid) + ")"
                                                                                  : std::string(bus_name_of(st.args.role))},
                            {"state", st.connection},
                            {"bus_names", st.names},
                            {"address", st.args.role == bus_role::private_systemd1 ? st.args.settings.systemd_dir + "/private"
                                                                                   : st.args.settings.system_bus},
                            {"refused", st.refused},
                            {"mailbox", self->mailbox().size()}};
        if (st.login) {
          node["sessions"] = st.login->registry.sessions().size();
          node["users"] = st.login->registry.users().size();
          node["sessions_created"] = st.login->created;
          auto ended = nlohmann::json::array();
          for (const auto& t : st.login->ended_tallies) {
            ended.push_back({{"session", t.session}, {"devices_taken", t.taken}, {"devices_released", t.released}});
          }
          node["ended_sessions"] = ended;
        }
        return json_text(node);
      },
  };
}

}  // namespace

caf::actor spawn_bus_actor(caf::local_actor* parent, bus_args args) {
  return parent->spawn<caf::linked>(bus_actor, std::move(args));
}

}  // namespace dynamod::dbus
