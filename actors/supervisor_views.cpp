// What a supervisor shows of itself: the service list, one service's status, and its part of the live
// actor tree. Each view is assembled from the child records plus requests to the live actors concerned.
#include <spdlog/spdlog.h>

#include "actors/json_text.hpp"
#include "actors/supervisor_state.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod::supervision {

namespace {

constexpr auto kQueryTimeout = std::chrono::seconds(5);

// Joins asynchronous answers: `done` runs once every part has arrived (or failed).
struct gather {
  size_t pending;
  std::function<void()> done;
  void one() {
    if (--pending == 0) done();
  }
};

}  // namespace

nlohmann::json service_summary(self_ptr self, const child_record& c) {
  const auto& cfg = *c.node.service;
  const bool up = c.last.state == "running" || c.last.state == "starting" || c.last.state == "stopping";
  return {{"name", c.id()},
          {"supervisor", my_name(self)},
          {"state", c.last.state},
          {"pid", c.last.pid},
          {"restarts", c.restarts},
          {"oom_kills", c.oom_kills},
          {"last_exit", c.last_exit},
          {"detail", c.last.detail},
          {"status_text", c.last.status_text},
          {"type", to_string(cfg.type)},
          {"readiness", to_string(cfg.readiness)},
          {"enabled", cfg.enabled},
          {"uptime_ms", up ? uptime_ms(c.started_at) : 0},
          {"since_ms", uptime_ms(c.state_since)}};
}

nlohmann::json down_with_its_supervisor(const child_record& sup, const std::string& service) {
  for (const auto& s : services_in_order(sup.node)) {
    if (s->name != service) continue;
    return {{"name", s->name},
            {"supervisor", s->supervisor},
            {"state", "failed"},
            {"pid", 0},
            {"restarts", 0},
            {"oom_kills", 0},
            {"last_exit", ""},
            {"detail", "supervisor " + sup.id() + " is down: " + sup.last.detail},
            {"status_text", ""},
            {"type", to_string(s->type)},
            {"readiness", to_string(s->readiness)},
            {"uptime_ms", 0},
            {"since_ms", uptime_ms(sup.state_since)},
            {"exec", s->exec},
            {"file", s->file},
            {"restart_policy", to_string(s->restart)},
            {"log", nlohmann::json::array()}};
  }
  return nlohmann::json::object();
}

void collect_list(self_ptr self, caf::response_promise promise) {
  auto& st = self->state;
  auto rp = std::make_shared<caf::response_promise>(std::move(promise));
  auto result = std::make_shared<nlohmann::json>(nlohmann::json::array());
  std::vector<caf::actor> subs;
  for (const auto& c : st.children) {
    if (c.is_service()) {
      result->push_back(service_summary(self, c));
    } else if (c.incarnation) {
      subs.push_back(c.incarnation);
    } else if (st.logic->state(c.id()) == behaviours::child_state::failed) {
      for (const auto& s : services_in_order(c.node)) result->push_back(down_with_its_supervisor(c, s->name));
    }
  }
  auto g = std::make_shared<gather>(gather{subs.size() + 1, [=] { rp->deliver(json_text(*result)); }});
  for (const auto& sub : subs) {
    auto merge = [=](const std::string& json) {
      auto part = nlohmann::json::parse(json, nullptr, false);
      if (part.is_array()) {
        for (auto& e : part) result->push_back(std::move(e));
      }
      g->one();
    };
    self->request(sub, kQueryTimeout, list_atom_v).then(merge, [=](caf::error&) { g->one(); });
  }
  g->one();
}

void collect_status(self_ptr self, child_record& c, caf::response_promise promise) {
  auto rp = std::make_shared<caf::response_promise>(std::move(promise));
  const auto& cfg = *c.node.service;
  auto out = std::make_shared<nlohmann::json>(service_summary(self, c));
  (*out)["exec"] = cfg.exec;
  (*out)["file"] = cfg.file;
  (*out)["restart_policy"] = to_string(cfg.restart);
  (*out)["requires"] = cfg.requires_;
  (*out)["after"] = cfg.after;
  (*out)["wants"] = cfg.wants;
  (*out)["log"] = nlohmann::json::array();
  auto g = std::make_shared<gather>(gather{3, [=] { rp->deliver(json_text(*out)); }});
  if (c.incarnation) {
    self->request(c.incarnation, kQueryTimeout, status_atom_v)
        .then(
            [=](const std::string& json) {
              auto live = nlohmann::json::parse(json, nullptr, false);
              if (live.is_object()) {
                for (auto& [k, v] : live.items()) (*out)[k == "state" ? "lifecycle" : k] = v;
              }
              g->one();
            },
            [=](caf::error&) { g->one(); });
  } else {
    g->one();
  }
  if (c.log_sink) {
    self->request(c.log_sink, kQueryTimeout, log_tail_atom_v, uint32_t{10})
        .then(
            [=](const std::vector<std::string>& lines) {
              (*out)["log"] = lines;
              g->one();
            },
            [=](caf::error&) { g->one(); });
  } else {
    g->one();
  }
  g->one();
}

void collect_tree(self_ptr self, caf::response_promise promise) {
  auto& st = self->state;
  auto rp = std::make_shared<caf::response_promise>(std::move(promise));
  const auto& cfg = *st.args.node.supervisor;
  auto node = std::make_shared<nlohmann::json>(nlohmann::json{
      {"kind", "supervisor"},
      {"name", my_name(self)},
      {"state", st.stopping ? "stopping" : "running"},
      {"strategy", to_string(cfg.strategy)},
      {"intensity", std::to_string(st.logic->intensity_entries()) + "/" + std::to_string(cfg.max_restarts) + " in " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg.max_restart_window).count()) +
                        "s"},
      {"uptime_ms", uptime_ms(st.started_at)},
      {"mailbox", self->mailbox().size()},
      {"children", nlohmann::json::array()}});
  // One slot per child keeps the start order whatever order the answers come in.
  auto slots = std::make_shared<std::vector<nlohmann::json>>(st.children.size());
  size_t queries = 0;
  for (const auto& c : st.children) queries += c.incarnation ? 1 : 0;
  for (const auto& c : st.children) queries += c.log_sink ? 1 : 0;
  auto g = std::make_shared<gather>(gather{queries + 1, [=] {
                                             for (auto& s : *slots) {
                                               if (!s.is_null()) (*node)["children"].push_back(std::move(s));
                                             }
                                             rp->deliver(json_text(*node));
                                           }});
  for (size_t i = 0; i < st.children.size(); ++i) {
    const auto& c = st.children[i];
    if (!c.is_service()) {
      if (!c.incarnation) {
        (*slots)[i] = {{"kind", "supervisor"}, {"name", c.id()}, {"state", c.last.state}, {"restarts", c.restarts},
                       {"children", nlohmann::json::array()}};
        continue;
      }
      self->request(c.incarnation, kQueryTimeout, tree_atom_v)
          .then(
              [=](const std::string& json) {
                auto sub = nlohmann::json::parse(json, nullptr, false);
                if (sub.is_object()) sub["restarts"] = c.restarts;
                (*slots)[i] = std::move(sub);
                g->one();
              },
              [=](caf::error&) { g->one(); });
      continue;
    }
    nlohmann::json svc = service_summary(self, c);
    svc["kind"] = "service";
    svc["children"] = nlohmann::json::array();
    (*slots)[i] = std::move(svc);
    if (c.incarnation) {
      self->request(c.incarnation, kQueryTimeout, tree_atom_v)
          .then(
              [=](const std::string& json) {
                auto live = nlohmann::json::parse(json, nullptr, false);
                if (live.is_object()) {
                  (*slots)[i]["mailbox"] = live.value("mailbox", 0);
                  for (auto& child : live.value("children", nlohmann::json::array())) (*slots)[i]["children"].push_back(child);
                }
                g->one();
              },
              [=](caf::error&) { g->one(); });
    }
    if (c.log_sink) {
      self->request(c.log_sink, kQueryTimeout, tree_atom_v)
          .then(
              [=](const std::string& json) {
                auto sink = nlohmann::json::parse(json, nullptr, false);
                if (sink.is_object()) (*slots)[i]["children"].push_back(std::move(sink));
                g->one();
              },
              [=](caf::error&) { g->one(); });
    }
  }
  g->one();
}

}  // namespace dynamod::supervision
