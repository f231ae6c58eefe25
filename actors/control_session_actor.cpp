#include "actors/control_session_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <grp.h>
#include <mutex>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "protocol/control_messages.hpp"
#include "protocol/init_messages.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

using protocol::control_reply;
using protocol::control_request;
using protocol::reply_kind;

namespace {

// Exit codes as systemctl uses them.
constexpr uint8_t ok = 0;
constexpr uint8_t failed = 1;
constexpr uint8_t usage = 2;
constexpr uint8_t not_running = 3;        // status: the service is not running
constexpr uint8_t permission_denied = 4;  // systemctl maps AccessDenied to 4
constexpr uint8_t unknown_unit = 5;       // start/stop/restart of an unknown service ("Unit not found")
constexpr uint8_t kStatusUnknown = 4;     // status of an unknown service (systemctl status: 4)

const client_limits kLimits;  // a client that leaves too much unread is dropped (client_limits)
// Back-pressure: a client gets this many requests served at once, and none while this much output waits for it.
// Beyond that its requests stay in its socket, so one client can never flood the runtime's actors.
constexpr size_t kMaxInFlight = 32;
constexpr size_t kPauseOutput = 1024 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(30);
// start/stop/restart wait for the outcome (readiness, stop timeouts): their owner answers, but CAF 0.17 does not
// fail a promise an actor dropped, so a deadline answers (and frees the session) should one never come.
// dynamodctl waits a little longer (protocol/control_messages.hpp: kControlClientTimeout).
constexpr auto kOperateTimeout = protocol::kControlOperateTimeout;

// Input is buffered only while a request is partly received: an idle session holds no buffer (thousands of
// idle clients used to cost 64 KiB each).
struct request_input {
  std::unique_ptr<uint8_t[]> storage;
  std::optional<protocol::frame_reader> reader;
  protocol::frame_reader& get() {
    if (!reader) {
      storage.reset(new uint8_t[protocol::kControlMaxRequest]);  // not zero-filled: pages only as used
      reader.emplace(storage.get(), protocol::kControlMaxRequest, protocol::kControlProtocolVersion);
    }
    return *reader;
  }
  void release_if_empty() {
    if (reader && reader->buffered() == 0 && reader->error() == protocol::frame_status::ok) {
      reader.reset();
      storage.reset();
    }
  }
};

struct control_session_state {
  int fd = -1;
  client_identity client;
  runtime_context_ptr context;
  caf::actor runtime;
  std::shared_ptr<client_load> load;  // what all sessions hold; `out` is counted in it
  request_input in;
  std::vector<uint8_t> out;
  uint32_t following = 0;  // request id of a `logs -f` stream, if any
  size_t in_flight = 0;
  bool heavy_in_flight = false;  // a `tree` or `logs`: one at a time per client
  bool holds_tree_slot = false;  // one of client_limits::trees_in_flight
  bool closing = false;    // close once `out` is flushed and nothing is in flight
  bool dropped = false;    // quitting: the client left or was too slow
  static inline const char* name = "control_session";
  ~control_session_state() {
    if (load) load->remove(out.size());
    if (holds_tree_slot) load->end_tree();
    if (fd >= 0) {
      context->loop->forget(fd);
      ::close(fd);
    }
  }
};

using self_ptr = caf::stateful_actor<control_session_state>*;

bool accepting(const control_session_state& st) {
  return !st.closing && !st.heavy_in_flight && st.in_flight < kMaxInFlight && st.out.size() < kPauseOutput;
}

// Drops what is queued for the client and ends the session now: replies still to come go to a dead actor and
// are discarded, and a log sink stops pushing lines to it (it monitors its followers).
void drop_client(self_ptr self) {
  auto& st = self->state;
  st.load->remove(st.out.size());
  std::vector<uint8_t>().swap(st.out);
  st.closing = true;
  st.dropped = true;
  st.following = 0;
  self->quit();
}

// One line per interval for all sessions together, however many clients an attacker drops.
void log_dropped_client(const client_identity& client, const char* why) {
  static std::mutex mutex;
  static log_throttle throttle{std::chrono::seconds(10)};
  std::lock_guard<std::mutex> guard{mutex};
  if (throttle.occurred(std::chrono::steady_clock::now())) {
    spdlog::warn("control client uid {} pid {} {}: dropping it ({} more dropped in the last interval)", client.uid,
                 client.pid, why, throttle.suppressed());
  }
}

// Refused requests are logged once per interval too: an unprivileged client could otherwise write a line into
// the runtime's log with every request. Returns whether to log this one; `suppressed` counts those not logged.
bool log_this_refusal(uint64_t& suppressed) {
  static std::mutex mutex;
  static log_throttle throttle{std::chrono::seconds(10)};
  std::lock_guard<std::mutex> guard{mutex};
  if (!throttle.occurred(std::chrono::steady_clock::now())) return false;
  suppressed = throttle.suppressed();
  return true;
}

void pump(self_ptr self);

void arm(self_ptr self) {
  auto& st = self->state;
  if (st.dropped) return;
  pump(self);  // requests that were held back while the client was busy
  uint32_t events = accepting(st) ? static_cast<uint32_t>(EPOLLIN) : 0u;
  if (!st.out.empty()) events |= EPOLLOUT;
  if (events == 0 && st.closing && st.in_flight == 0 && st.following == 0) {
    self->quit();
    return;
  }
  // Even with nothing to wait for (events 0) the watch reports a hang-up, so work for a client that left is
  // dropped at once rather than finished for nobody.
  st.context->loop->watch(st.fd, events, caf::actor_cast<caf::actor>(self), 0);
}

void flush(self_ptr self) {
  auto& st = self->state;
  size_t off = 0;
  while (off < st.out.size()) {
    const ssize_t n = ::send(st.fd, st.out.data() + off, st.out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    drop_client(self);  // the client is gone
    return;
  }
  st.out.erase(st.out.begin(), st.out.begin() + static_cast<std::ptrdiff_t>(off));
  st.load->remove(off);
  if (st.out.empty()) std::vector<uint8_t>().swap(st.out);  // an idle session holds no buffer
}

void reply(self_ptr self, uint32_t id, reply_kind kind, uint8_t code, std::string json) {
  auto& st = self->state;
  if (st.dropped) return;  // nobody to answer
  control_reply r{id, kind, code, std::move(json)};
  const size_t before = st.out.size();
  protocol::encode_reply(r, st.out);
  const size_t added = st.out.size() - before;
  if (!may_queue_reply(kLimits, before, added, st.load->held())) {
    log_dropped_client(st.client, st.following != 0 ? "does not read the log lines it follows"
                                                     : "does not read its replies");
    st.out.resize(before);
    drop_client(self);
    return;
  }
  st.load->add(added);
  flush(self);
}

void reply_error(self_ptr self, uint32_t id, uint8_t code, const std::string& message) {
  reply(self, id, reply_kind::error, code, json_text(nlohmann::json{{"error", message}}));
}

std::string error_text(const caf::error& e) {
  // Our errors carry their explanation as context: show that, not CAF's rendering.
  if (e.context().match_elements<std::string>()) return e.context().get_as<std::string>(0);
  return caf::to_string(e);
}

bool is_unknown(const caf::error& e) { return e == caf::sec::invalid_argument; }

bool may_mutate(self_ptr self) {
  const uid_t uid = self->state.client.uid;
  return uid == 0 || uid == ::geteuid();
}

// Sends `msg` to the runtime and answers the request with the JSON it returns.
template <class... Ts>
void ask(self_ptr self, uint32_t id, std::function<uint8_t(const std::string&)> exit_code_of,
         uint8_t unknown_code, Ts... msg) {
  ++self->state.in_flight;
  self->request(self->state.runtime, kRequestTimeout, msg...)
      .then(
          [=](const std::string& json) {
            --self->state.in_flight;
            reply(self, id, reply_kind::result, exit_code_of(json), json);
            arm(self);
          },
          [=](caf::error& err) {
            --self->state.in_flight;
            reply_error(self, id, is_unknown(err) ? unknown_code : failed, error_text(err));
            arm(self);
          });
}

uint8_t always_ok(const std::string&) { return ok; }

// start/stop/restart on several services: one answer with every outcome, in the order asked.
void operate(self_ptr self, const control_request& req) {
  const uint32_t id = req.id;
  const bool wait = (req.flags & protocol::flag_no_block) == 0;
  auto results = std::make_shared<std::vector<nlohmann::json>>(req.args.size());
  auto worst = std::make_shared<uint8_t>(ok);
  auto pending = std::make_shared<size_t>(req.args.size());
  ++self->state.in_flight;
  auto done = [=] {
    if (--*pending > 0) return;
    --self->state.in_flight;
    reply(self, id, *worst == ok ? reply_kind::result : reply_kind::error, *worst,
          json_text(nlohmann::json{{"results", *results}}));
    arm(self);
  };
  for (size_t i = 0; i < req.args.size(); ++i) {
    const std::string name = req.args[i];
    auto on_result = [=](const std::string& json) {
      (*results)[i] = nlohmann::json::parse(json, nullptr, false);
      done();
    };
    auto on_error = [=](caf::error& err) {
      (*results)[i] = {{"service", name}, {"error", error_text(err)}};
      const uint8_t code = is_unknown(err) ? unknown_unit : failed;
      if (code > *worst || *worst == ok) *worst = code;
      done();
    };
    if (req.command == "start") {
      self->request(self->state.runtime, kOperateTimeout, start_atom_v, name, wait).then(on_result, on_error);
    } else if (req.command == "stop") {
      self->request(self->state.runtime, kOperateTimeout, stop_atom_v, name, wait).then(on_result, on_error);
    } else {
      self->request(self->state.runtime, kOperateTimeout, restart_atom_v, name, wait).then(on_result, on_error);
    }
  }
}

// Who may read services' output (issue 14 §3): the log files are root's; the log group (--log-group) may too.
std::string log_permission_text(const runtime_context& ctx) {
  if (ctx.log_group < 0) return "permission denied: reading a service's log needs root";
  group grp{};
  group* found = nullptr;
  char buf[1024];
  const gid_t gid = static_cast<gid_t>(ctx.log_group);
  const bool named = ::getgrgid_r(gid, &grp, buf, sizeof buf, &found) == 0 && found != nullptr;
  return "permission denied: reading a service's log needs root or membership of group " +
         (named ? std::string{grp.gr_name} : std::to_string(gid));
}

// `status` stays public, without the service's log lines for those who may not read them.
std::string without_log_lines(const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("log")) return json;
  j["log"] = nlohmann::json::array();
  j["log_withheld"] = true;
  return json_text(j);
}

void logs(self_ptr self, const control_request& req) {
  const uint32_t id = req.id;
  if (!self->state.client.may_read_logs) {
    uint64_t suppressed = 0;
    if (log_this_refusal(suppressed)) {
      spdlog::warn("control: uid {} (pid {}) may not read the log of {} ({} more refusals in the last interval)",
                   self->state.client.uid, self->state.client.pid, req.args[0], suppressed);
    }
    reply_error(self, id, permission_denied, log_permission_text(*self->state.context));
    return;
  }
  uint32_t lines = 20;
  if (req.args.size() >= 2) {
    try {
      lines = static_cast<uint32_t>(std::min(100000UL, std::stoul(req.args[1])));
    } catch (...) {
      reply_error(self, id, usage, "logs: '" + req.args[1] + "' is not a number of lines");
      return;
    }
  }
  const std::string name = req.args[0];
  const bool follow = (req.flags & protocol::flag_follow) != 0;
  ++self->state.in_flight;
  self->state.heavy_in_flight = true;
  self->request(self->state.runtime, kRequestTimeout, log_sink_atom_v, name)
      .then(
          [=](const caf::actor& sink) {
            // A follower gets the tail and every later line from one request: none falls in between.
            auto ask = follow ? self->request(sink, kRequestTimeout, log_follow_atom_v, caf::actor_cast<caf::actor>(self), lines)
                              : self->request(sink, kRequestTimeout, log_tail_atom_v, lines);
            ask.then(
                    [=](const std::vector<std::string>& tail) {
                      --self->state.in_flight;
                      self->state.heavy_in_flight = false;
                      if (follow) {
                        for (const auto& line : tail) reply(self, id, reply_kind::event, ok, json_text(nlohmann::json{{"line", line}}));
                        if (self->state.dropped) return;
                        self->state.following = id;
                      } else {
                        reply(self, id, reply_kind::result, ok, json_text(nlohmann::json{{"service", name}, {"lines", tail}}));
                      }
                      arm(self);
                    },
                    [=](caf::error& err) {
                      --self->state.in_flight;
                      self->state.heavy_in_flight = false;
                      reply_error(self, id, failed, error_text(err));
                      arm(self);
                    });
          },
          [=](caf::error& err) {
            --self->state.in_flight;
            self->state.heavy_in_flight = false;
            reply_error(self, id, is_unknown(err) ? kStatusUnknown : failed, error_text(err));
            arm(self);
          });
}

// A fan-out over every actor with a reply of ~400 bytes per service: one at a time per client, and a few at
// a time for all (client_limits::trees_in_flight), so clients that send many and read none cannot keep the
// runtime building trees, for themselves or, once gone, for nobody. A request waiting for a slot holds the
// client's other requests back, and is tried again shortly. An admin's tree never waits for a slot.
constexpr auto kTreeSlotRetry = std::chrono::milliseconds(100);

void tree(self_ptr self, uint32_t id) {
  auto& st = self->state;
  st.heavy_in_flight = true;
  ++st.in_flight;
  if (!st.client.admin) {
    if (!st.load->try_begin_tree(kLimits.trees_in_flight)) {
      self->delayed_send(self, kTreeSlotRetry, tree_atom_v, id);  // counted in flight meanwhile
      return;
    }
    st.holds_tree_slot = true;
  }
  auto done = [=] {
    auto& st = self->state;
    if (st.holds_tree_slot) st.load->end_tree();
    st.holds_tree_slot = false;
    --st.in_flight;
    st.heavy_in_flight = false;
  };
  self->request(st.runtime, kRequestTimeout, tree_atom_v)
      .then(
          [=](const std::string& json) {
            done();
            reply(self, id, reply_kind::result, ok, json);
            arm(self);
          },
          [=](caf::error& err) {
            done();
            reply_error(self, id, failed, error_text(err));
            arm(self);
          });
}

struct command_spec {
  const char* name;
  size_t min_args;
  size_t max_args;  // SIZE_MAX: any number
  bool needs_root;  // changes something, or (check) reads every configuration file, which may be root's alone
  const char* usage;
};

const command_spec kCommands[] = {
    {"list", 0, 0, false, "list"},
    {"status", 1, 1, false, "status SERVICE"},
    {"start", 1, SIZE_MAX, true, "start SERVICE..."},
    {"stop", 1, SIZE_MAX, true, "stop SERVICE..."},
    {"restart", 1, SIZE_MAX, true, "restart SERVICE..."},
    {"tree", 0, 0, false, "tree"},
    {"logs", 1, 2, false, "logs SERVICE [LINES]"},
    {"reload", 0, 0, true, "reload"},
    {"check", 0, 0, true, "check"},
    {"shutdown", 1, 1, true, "shutdown poweroff|reboot|halt"},
};

void dispatch(self_ptr self, const control_request& req) {
  const uint32_t id = req.id;
  const command_spec* spec = nullptr;
  for (const auto& c : kCommands) {
    if (req.command == c.name) spec = &c;
  }
  if (spec == nullptr) {
    reply_error(self, id, usage, "unknown command '" + req.command + "'");
    return;
  }
  if (req.args.size() < spec->min_args || req.args.size() > spec->max_args) {
    reply_error(self, id, usage, std::string{"usage: "} + spec->usage);
    return;
  }
  if (spec->needs_root && !may_mutate(self)) {
    uint64_t suppressed = 0;
    if (log_this_refusal(suppressed)) {
      spdlog::warn("control: uid {} (pid {}) may not {} ({} more refusals in the last interval)",
                   self->state.client.uid, self->state.client.pid, req.command, suppressed);
    }
    reply_error(self, id, permission_denied, "permission denied: '" + req.command + "' needs root");
    return;
  }
  if (req.command == "list") {
    ask(self, id, always_ok, failed, list_atom_v);
  } else if (req.command == "status") {
    auto code_of = [](const std::string& json) -> uint8_t {
      auto j = nlohmann::json::parse(json, nullptr, false);
      const std::string state = j.is_object() ? j.value("state", "") : "";
      return state == "running" || state == "done" ? ok : not_running;
    };
    if (self->state.client.may_read_logs) {
      ask(self, id, code_of, kStatusUnknown, status_atom_v, req.args[0]);
      return;
    }
    ++self->state.in_flight;
    self->request(self->state.runtime, kRequestTimeout, status_atom_v, req.args[0])
        .then(
            [=](const std::string& json) {
              --self->state.in_flight;
              reply(self, id, reply_kind::result, code_of(json), without_log_lines(json));
              arm(self);
            },
            [=](caf::error& err) {
              --self->state.in_flight;
              reply_error(self, id, is_unknown(err) ? kStatusUnknown : failed, error_text(err));
              arm(self);
            });
  } else if (req.command == "start" || req.command == "stop" || req.command == "restart") {
    operate(self, req);
  } else if (req.command == "tree") {
    tree(self, id);
  } else if (req.command == "logs") {
    logs(self, req);
  } else if (req.command == "reload") {
    spdlog::info("reload requested by uid {} pid {}", self->state.client.uid, self->state.client.pid);
    auto code_of = [](const std::string& json) -> uint8_t {
      auto j = nlohmann::json::parse(json, nullptr, false);
      return j.is_object() && !j.value("errors", nlohmann::json::array()).empty() ? failed : ok;
    };
    ask(self, id, code_of, failed, reload_atom_v);
  } else if (req.command == "check") {
    auto code_of = [](const std::string& json) -> uint8_t {
      auto j = nlohmann::json::parse(json, nullptr, false);
      return j.is_object() && j.value("errors", nlohmann::json::array()).empty() ? ok : failed;
    };
    ask(self, id, code_of, failed, check_atom_v);
  } else if (req.command == "shutdown") {
    protocol::power_mode mode;
    if (!protocol::parse_power_mode(req.args[0].c_str(), mode)) {
      reply_error(self, id, usage, "usage: shutdown poweroff|reboot|halt");
      return;
    }
    spdlog::info("shutdown ({}) requested by uid {} pid {}", req.args[0], self->state.client.uid, self->state.client.pid);
    self->send(self->state.runtime, shutdown_atom_v, static_cast<uint8_t>(mode));
    reply(self, id, reply_kind::result, ok, json_text(nlohmann::json{{"shutdown", req.args[0]}}));
  }
}

// Serves the complete requests already received, as far as back-pressure allows.
void pump(self_ptr self) {
  auto& st = self->state;
  while (accepting(st) && st.in.reader) {
    protocol::frame_view frame;
    const protocol::frame_status s = st.in.reader->next(frame);
    if (s == protocol::frame_status::need_more) break;
    if (s != protocol::frame_status::ok) {
      reply_error(self, 0, usage, std::string{"bad frame: "} + protocol::to_string(s));
      st.closing = true;
      return;
    }
    control_request req;
    std::string error;
    if (!protocol::decode_request(frame, req, error)) {
      reply_error(self, 0, usage, "bad request: " + error);
      st.closing = true;
      return;
    }
    dispatch(self, req);
  }
  st.in.release_if_empty();
}

void on_readable(self_ptr self, bool hung_up) {
  auto& st = self->state;
  while (accepting(st) && st.in.get().write_space() > 0) {
    auto& reader = st.in.get();
    const ssize_t n = ::read(st.fd, reader.write_ptr(), reader.write_space());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0 || (n == 0 && hung_up)) {
      drop_client(self);  // gone (reset, or closed both ways): nobody reads what is pending
      return;
    }
    if (n == 0) {
      st.closing = true;  // the client closed its side only: answer what is pending, then go
      st.following = 0;
      break;
    }
    reader.commit(static_cast<size_t>(n));
    pump(self);
  }
  st.in.release_if_empty();
}

}  // namespace

static caf::behavior control_session_actor(self_ptr self, int fd, client_identity client, runtime_context_ptr context,
                                           caf::actor runtime, std::shared_ptr<client_load> load) {
  auto& st = self->state;
  st.fd = fd;
  st.client = client;
  st.context = std::move(context);
  st.runtime = std::move(runtime);
  st.load = std::move(load);
  // A client usually sends its request right after connecting: serve it now rather than after a trip
  // through the event loop.
  on_readable(self, false);
  arm(self);
  return {
      [=](io_ready_atom, uint64_t, uint32_t events) {
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(self, (events & (EPOLLHUP | EPOLLERR)) != 0);
        if (self->state.dropped) return;
        if ((events & (EPOLLHUP | EPOLLERR)) && !accepting(self->state)) {
          drop_client(self);  // gone while we held its requests back: finish nothing for it
          return;
        }
        if (!self->state.out.empty()) flush(self);
        arm(self);
      },
      [=](tree_atom, uint32_t id) {  // a tree request's turn to try for a slot again
        --self->state.in_flight;
        if (!self->state.dropped) tree(self, id);
      },
      [=](log_line_atom, const std::vector<std::string>& lines) {
        auto& st = self->state;
        for (const auto& line : lines) {
          if (st.following == 0 || st.dropped) return;  // a reply over the client's budget drops it
          reply(self, st.following, reply_kind::event, ok, json_text(nlohmann::json{{"line", line}}));
        }
        arm(self);
      },
  };
}

caf::actor spawn_control_session(caf::event_based_actor* listener, int fd, client_identity client,
                                 runtime_context_ptr context, caf::actor runtime, std::shared_ptr<client_load> load) {
  return listener->spawn<caf::linked>(control_session_actor, fd, client, std::move(context), std::move(runtime),
                                      std::move(load));
}

}  // namespace dynamod
