// dynamodctl reload, for one supervisor: children that left the configuration are stopped and dropped,
// new ones are added at the end of the start order and started, changed ones are stopped and started again
// with their new definition, unchanged ones are left alone (same process). Sub-supervisors whose own
// settings are unchanged apply the same to their children; changed ones are restarted with fresh children.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "actors/json_text.hpp"
#include "actors/supervisor_state.hpp"

namespace dynamod::supervision {

namespace {

bool same_node(const plan_node& a, const plan_node& b) {
  if (a.what != b.what) return false;
  if (a.what == plan_node::kind::service) return same_definition(*a.service, *b.service);
  return same_definition(*a.supervisor, *b.supervisor);
}

// service name -> the supervisor it is a child of.
void parents_of(const plan_node& n, std::map<std::string, std::string>& out) {
  for (const auto& c : n.children) {
    if (c.what == plan_node::kind::service) {
      out[c.name] = n.name;
    } else {
      parents_of(c, out);
    }
  }
}

}  // namespace

std::vector<std::string> moved_services(const plan_node& before, const plan_node& after) {
  std::map<std::string, std::string> was, is;
  parents_of(before, was);
  parents_of(after, is);
  std::vector<std::string> out;
  for (const auto& [name, parent] : is) {
    auto it = was.find(name);
    if (it != was.end() && it->second != parent) out.push_back(name);
  }
  return out;
}

void apply_reload(self_ptr self, plan_node fresh, std::vector<std::string> moved, caf::response_promise promise) {
  auto& st = self->state;
  auto rp = std::make_shared<caf::response_promise>(std::move(promise));
  auto diff = std::make_shared<nlohmann::json>(nlohmann::json{{"added", nlohmann::json::array()},
                                                              {"removed", nlohmann::json::array()},
                                                              {"changed", nlohmann::json::array()},
                                                              {"unchanged", nlohmann::json::array()}});
  std::vector<std::pair<caf::actor, plan_node>> forward;  // unchanged sub-supervisors reload their own children

  // Gone from the configuration: stop, then drop.
  for (auto& c : st.children) {
    const bool kept = std::any_of(fresh.children.begin(), fresh.children.end(),
                                  [&](const plan_node& n) { return n.name == c.id(); });
    if (kept) continue;
    (*diff)["removed"].push_back(c.id());
    c.remove_after_stop = true;
    // Moved to another supervisor, which adopts its process from the adoption record: the incarnation here
    // leaves without stopping it (otherwise its stop would kill what the new owner adopted, and wait forever for
    // an exit the reaper now gives to the new owner).
    c.hand_over = c.is_service() && std::find(moved.begin(), moved.end(), c.id()) != moved.end();
    if (st.logic->state(c.id()) == behaviours::child_state::running) {
      execute(self, st.logic->terminate_child(c.id()));
    } else {
      c.remove_now = true;
    }
  }
  for (auto& n : fresh.children) {
    child_record* c = find(self, n.name);
    if (c == nullptr || c->remove_after_stop) {
      if (c != nullptr) continue;  // a name reused by another kind of child: handled next reload
      (*diff)["added"].push_back(n.name);
      // Adopting: it may still run from before its file broke (kept across a runtime restart).
      st.children.push_back(new_child_record(n, read_adoption(self, n)));
      st.logic->add_child(spec_for(n));
      // One started only when asked is not started by being added, unless it runs already (adopted).
      if (spec_for(n).autostart || st.children.back().adopt) execute(self, st.logic->start_child(n.name));
      restart_if_stale(self, n.name);
      continue;
    }
    if (same_node(c->node, n)) {
      st.logic->set_dependencies(n.name, spec_for(n).depends_on);  // its siblings may have changed
      if (c->is_service()) {
        (*diff)["unchanged"].push_back(n.name);
        c->node.needs = n.needs;
        c->node.waits = n.waits;
        c->node.service = n.service;  // the same definition; its enable state may differ
        st.logic->set_autostart(n.name, n.service->start_at_boot);
      } else if (c->incarnation) {
        forward.emplace_back(c->incarnation, n);
      } else {
        c->node = n;  // not running (the root left it failed): its next start uses the fresh plan
      }
      continue;
    }
    (*diff)["changed"].push_back(n.name);
    if (st.logic->state(n.name) == behaviours::child_state::running) {
      c->replace_after_stop = n;
      execute(self, st.logic->terminate_child(n.name));
    } else {
      c->node = n;
      st.logic->replace_child(spec_for(n));
    }
  }
  // Children that were not running can go at once.
  std::vector<std::string> now;
  for (const auto& c : st.children) {
    if (c.remove_now) now.push_back(c.id());
  }
  for (const auto& id : now) {
    // Being stopped by a group run: it goes when that run is done, and is not started again with the group.
    if (!drop_child(self, id)) st.logic->retire_child(id);
  }
  st.args.node = std::move(fresh);
  st.logic->set_mode(give_up_mode_of(st.args.node));  // the root's give-up setting may have changed
  register_services(self);

  auto pending = std::make_shared<size_t>(forward.size() + 1);
  auto finish = [=] {
    if (--*pending == 0) rp->deliver(json_text(*diff));
  };
  for (auto& [sub, node] : forward) {
    self->request(sub, std::chrono::seconds(30), reload_atom_v, std::move(node), moved)
        .then(
            [=](const std::string& json) {
              auto part = nlohmann::json::parse(json, nullptr, false);
              if (part.is_object()) {
                for (const char* key : {"added", "removed", "changed", "unchanged"}) {
                  for (auto& e : part.value(key, nlohmann::json::array())) (*diff)[key].push_back(e);
                }
              }
              finish();
            },
            [=](caf::error& err) {
              spdlog::warn("reload of a sub-supervisor failed: {}", caf::to_string(err));
              finish();
            });
  }
  finish();
}

}  // namespace dynamod::supervision
