#include "dbus/job_runner_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "dbus/job_book.hpp"
#include "dbus/unit_names.hpp"

namespace dynamod::dbus {

namespace {

// A start waits for readiness, which has its own timeouts; this only makes sure every job ends.
constexpr auto kJobTimeout = std::chrono::minutes(15);

struct runner_state {
  static inline const char* name = "dbus_jobs";
  runtime_context_ptr ctx;
  job_book book{std::chrono::duration_cast<std::chrono::milliseconds>(kJobTimeout)};
  std::vector<caf::actor> subscribers;
  uint64_t started = 0;
};
using runner_self = caf::stateful_actor<runner_state>*;

void broadcast(runner_self self, bool removed, uint32_t id, const std::string& unit, const std::string& what) {
  for (const auto& s : self->state.subscribers) self->send(s, job_event_atom_v, removed, id, unit, what);
}

void end_job(runner_self self, uint32_t id, job_outcome outcome) {
  if (auto r = self->state.book.finish(id, outcome)) broadcast(self, true, r->id, r->unit, r->result);
}

// How the runtime's answer ends the job: its state after the operation decides, as systemd's job result would.
job_outcome outcome_of(const std::string& type, const std::string& json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  const std::string state = j.is_object() && j.contains("state") && j["state"].is_string() ? j["state"].get<std::string>() : "";
  if (type == "stop") return state == "failed" ? job_outcome::failed : job_outcome::done;
  return state == "running" || state == "done" || state == "starting" ? job_outcome::done : job_outcome::failed;
}

job_outcome outcome_of_error(const caf::error& err) {
  const std::string text = caf::to_string(err);
  if (text.find("requires") != std::string::npos || text.find("dependency") != std::string::npos ||
      text.find("blocked") != std::string::npos) {
    return job_outcome::dependency;
  }
  return job_outcome::failed;
}

void run(runner_self self, uint32_t id, const std::string& service, const std::string& type) {
  auto& rt = self->state.ctx->runtime;
  auto done = [=](const std::string& json) { end_job(self, id, outcome_of(type, json)); };
  auto failed = [=](caf::error& err) {
    spdlog::info("dbus: job {} ({} {}) failed: {}", id, type, service, caf::to_string(err));
    end_job(self, id, outcome_of_error(err));
  };
  if (type == "start") {
    self->request(rt, kJobTimeout, start_atom_v, service, true).then(done, failed);
  } else if (type == "stop") {
    self->request(rt, kJobTimeout, stop_atom_v, service, true).then(done, failed);
  } else if (type == "restart") {
    self->request(rt, kJobTimeout, restart_atom_v, service, true).then(done, failed);
  } else if (type == "try-restart") {
    // Restarted only if it runs; otherwise the job is done with nothing to do (systemd: skipped as done).
    self->request(rt, kJobTimeout, status_atom_v, service)
        .then(
            [=](const std::string& json) {
              auto j = nlohmann::json::parse(json, nullptr, false);
              const bool up = j.is_object() && j.value("state", "") == "running";
              if (!up) {
                end_job(self, id, job_outcome::done);
                return;
              }
              self->request(rt, kJobTimeout, restart_atom_v, service, true).then(done, failed);
            },
            failed);
  } else {
    end_job(self, id, job_outcome::unsupported);
  }
}

caf::behavior job_runner(runner_self self, runtime_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const caf::actor& a) { return a.address() == msg.source; }),
               subs.end());
  });
  return {
      [=](subscribe_atom, const caf::actor& who) {
        if (!who) return;
        self->monitor(who);
        self->state.subscribers.push_back(who);
      },
      // unit: "sshd.service"; type: start, stop, restart, try-restart. The job's id comes back at once (the caller
      // replies with its path) and JobNew goes out; JobRemoved follows when the runtime has answered.
      [=](job_start_atom, const std::string& unit, const std::string& type) -> caf::result<uint32_t> {
        auto& st = self->state;
        auto name = dynamod_name_of(unit);
        if (!name || name->supervisor) return caf::make_error(caf::sec::invalid_argument, "not a service: " + unit);
        auto q = st.book.enqueue(unit, type, job_clock::now());
        if (q.replaced) broadcast(self, true, q.replaced->id, q.replaced->unit, q.replaced->result);
        if (!q.created) return caf::make_error(caf::sec::runtime_error, "too many jobs queued");
        const uint32_t id = q.created->id;
        ++st.started;
        broadcast(self, false, id, unit, type);
        self->delayed_send(self, kJobTimeout + std::chrono::seconds(1), timeout_atom_v);
        run(self, id, name->name, type);
        return id;
      },
      [=](timeout_atom) {
        for (const auto& r : self->state.book.expire(job_clock::now())) broadcast(self, true, r.id, r.unit, r.result);
      },
      [=](job_cancel_atom, uint32_t id) {
        // The operation itself is not undone (the runtime is carrying it out); the job ends as canceled.
        const bool known = self->state.book.find(id) != nullptr;
        end_job(self, id, job_outcome::canceled);
        return known;
      },
      [=](job_list_atom) {
        std::vector<std::string> flat;
        for (const auto& j : self->state.book.list()) {
          flat.push_back(std::to_string(j.id));
          flat.push_back(j.unit);
          flat.push_back(j.type);
        }
        return flat;
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "dbus_jobs"},
                                        {"name", "systemd1 jobs"},
                                        {"state", "running"},
                                        {"jobs", st.book.size()},
                                        {"started", st.started},
                                        {"connections", st.subscribers.size()},
                                        {"mailbox", self->mailbox().size()}});
      },
  };
}

}  // namespace

caf::actor spawn_job_runner(caf::local_actor* parent, runtime_context_ptr ctx) {
  return parent->spawn<caf::linked>(job_runner, std::move(ctx));
}

}  // namespace dynamod::dbus
