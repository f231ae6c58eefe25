#include "behaviours/supervisor_logic.hpp"

#include <algorithm>
#include <unordered_set>

namespace dynamod::behaviours {

const char* to_string(child_state s) {
  switch (s) {
    case child_state::running: return "running";
    case child_state::terminating: return "terminating";
    case child_state::stopped: return "stopped";
    case child_state::removed: return "removed";
    case child_state::failed: return "failed";
  }
  return "?";
}

supervisor_logic::supervisor_logic(strategy s, intensity_limit limit, std::vector<child_spec> children,
                                   termination_order order, give_up_mode mode)
    : strategy_(s), order_(order), mode_(mode), intensity_(limit) {
  children_.reserve(children.size());
  for (auto& c : children) {
    index_.emplace(c.id, children_.size());
    children_.emplace_back(std::move(c));
  }
  rebuild_needed_by();
}

supervisor_logic::child* supervisor_logic::find(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  child& c = children_[it->second];
  return c.state == child_state::removed ? nullptr : &c;
}

const supervisor_logic::child* supervisor_logic::find(const std::string& id) const {
  return const_cast<supervisor_logic*>(this)->find(id);
}

std::vector<int64_t> supervisor_logic::child_history(const std::string& id) const {
  const child* c = find(id);
  return c ? c->own.history() : std::vector<int64_t>{};
}

void supervisor_logic::restore_history(const std::vector<int64_t>& supervisor,
                                       const std::unordered_map<std::string, std::vector<int64_t>>& children,
                                       int64_t now_seconds) {
  intensity_.restore(supervisor, now_seconds);
  for (const auto& [id, times] : children) {
    if (child* c = find(id)) c->own.restore(times, now_seconds);
  }
}

child_state supervisor_logic::state(const std::string& id) const {
  const child* c = find(id);
  return c ? c->state : child_state::removed;
}

std::vector<std::string> supervisor_logic::children() const {
  std::vector<std::string> out;
  for (const auto& c : children_) {
    if (c.state != child_state::removed) out.push_back(c.spec.id);
  }
  return out;
}

std::vector<std::string> supervisor_logic::rolled_back_by(const std::string& id) const {
  std::vector<std::string> out;
  auto it = index_.find(id);
  if (it == index_.end()) return out;
  const size_t end = strategy_ == strategy::one_for_all    ? children_.size()
                     : strategy_ == strategy::rest_for_one ? it->second
                                                           : 0;
  for (size_t i = 0; i < end; ++i) {
    const child& c = children_[i];
    if (i == it->second || c.state == child_state::removed || c.spec.restart == restart_type::temporary)
      continue;
    out.push_back(c.spec.id);
  }
  return out;
}

std::vector<std::string> supervisor_logic::running_in_reverse(size_t from_index) const {
  std::vector<std::string> out;
  for (size_t i = children_.size(); i-- > from_index;) {
    if (children_[i].state == child_state::running) out.push_back(children_[i].spec.id);
  }
  return out;
}

bool supervisor_logic::in_sequence(const std::string& id) const {
  if (!sequence_) return false;
  const auto& s = *sequence_;
  return s.to_terminate.contains(id) || s.outstanding.count(id) != 0;
}

std::vector<command> supervisor_logic::start() {
  std::vector<command> out;
  for (auto& c : children_) {
    if (c.state == child_state::stopped && c.spec.autostart) {
      c.state = child_state::running;
      out.push_back({command::kind::start, c.spec.id, {}});
    }
  }
  return out;
}

void supervisor_logic::set_autostart(const std::string& id, bool autostart) {
  if (child* c = find(id)) c->spec.autostart = autostart;
}

std::vector<command> supervisor_logic::on_exit(const std::string& id, exit_kind kind, int64_t now_seconds) {
  if (exited_) return {};
  child* c = find(id);
  // An incarnation we already forgot about.
  if (!c || c->state == child_state::stopped || c->state == child_state::failed) return {};
  if (sequence_) {
    auto& s = *sequence_;
    if (s.outstanding.count(id) != 0) {
      // It died on its own while we were terminating it: OTP logs shutdown_error and goes on.
      return on_terminated(id);
    }
    if (s.to_terminate.erase(id)) {
      // OTP s22: a child due for termination died first; it is skipped (and restarted with the group).
      c->state = c->after_stop();
      return {};
    }
    deferred_.push_back({deferred::kind::exit, id, kind, now_seconds});
    return {};
  }
  return handle_exit(*c, kind, now_seconds);
}

std::vector<command> supervisor_logic::handle_exit(child& c, exit_kind kind, int64_t now) {
  c.state = child_state::stopped;
  if (c.retiring) {
    c.state = child_state::removed;
    return {};
  }
  // OTP §2: temporary children are never restarted and their spec is dropped; transient ones are
  // restarted only after an abnormal exit. Neither adds an intensity entry.
  if (c.spec.restart == restart_type::temporary) {
    c.state = child_state::removed;
    return {};
  }
  if (c.spec.restart == restart_type::transient && kind != exit_kind::abnormal) return {};

  const auto supervisor_limit = [&] {
    return "reached max restart intensity (" + std::to_string(intensity_.limit().max_restarts) + " in " +
           std::to_string(intensity_.limit().period_seconds) + "s)";
  };
  const auto own_limit = [&] {
    return "max-restarts (" + std::to_string(c.own.limit().max_restarts) + " in " +
           std::to_string(c.own.limit().period_seconds) + "s)";
  };
  if (mode_ == give_up_mode::degrade) {
    // dynamod, root of an init: the restart that would exceed a limit is not made; only this child pays.
    // Not restarted, it adds no entry to either limit (OTP counts restarts only).
    if (!intensity_.allows(now)) return leave_failed(c, "its supervisor " + supervisor_limit());
    if (!c.own.allows(now)) return leave_failed(c, "exceeded its " + own_limit());
    intensity_.add(now);
    c.own.add(now);
  } else {
    // Both limits are checked before anything restarts; the child that just died is not restarted on
    // give-up (OTP §1.1).
    const bool supervisor_ok = intensity_.add(now);
    const bool child_ok = c.own.add(now);
    if (!supervisor_ok) return give_up(supervisor_limit() + ", last: " + c.spec.id);
    if (!child_ok) return give_up(c.spec.id + " exceeded its own " + own_limit());
  }

  switch (strategy_) {
    case strategy::one_for_one:
    case strategy::simple_one_for_one:
      c.state = child_state::running;
      return {{command::kind::start, c.spec.id, {}}};
    // OTP's terminate_children + start_children: every non-temporary child of the group is started
    // again (even one that was stopped before); temporary ones are terminated and dropped (s19).
    case strategy::one_for_all:
    case strategy::rest_for_one: {
      const size_t first = strategy_ == strategy::one_for_all ? 0 : static_cast<size_t>(&c - children_.data());
      sequence s;
      for (auto& id : running_in_reverse(first)) s.to_terminate.push_back(id);
      for (size_t i = first; i < children_.size(); ++i) {
        const auto& other = children_[i];
        // A failed child (degrade) stays down until an operator starts it; so does one started only when asked
        // (no autostart) that was not running.
        const bool manual_and_down = !other.spec.autostart && other.state == child_state::stopped;
        if (other.state != child_state::removed && other.state != child_state::failed &&
            other.spec.restart != restart_type::temporary && !manual_and_down) {
          s.to_start.push_back(other.spec.id);
        }
      }
      return begin(std::move(s));
    }
  }
  return {};
}

std::vector<command> supervisor_logic::give_up(const std::string& why) {
  // OTP §1.1: terminate the remaining children as in a normal shutdown, then exit with `shutdown`.
  sequence s;
  for (auto& id : running_in_reverse()) s.to_terminate.push_back(id);
  s.then_exit = true;
  s.exit_note = why;
  return begin(std::move(s));
}

std::vector<command> supervisor_logic::leave_failed(child& c, const std::string& why) {
  c.state = child_state::failed;
  return {{command::kind::fail, c.spec.id, why}};
}

std::vector<command> supervisor_logic::shutdown() {
  if (exited_) return {};
  if (sequence_) {
    // Whatever was running (a group restart) ends in termination of everything instead.
    deferred_.push_front({deferred::kind::shutdown, {}, exit_kind::shutdown, 0});
    sequence_->to_start.clear();
    return {};
  }
  sequence s;
  for (auto& id : running_in_reverse()) s.to_terminate.push_back(id);
  s.then_exit = true;
  s.exit_note = "shutdown";
  return begin(std::move(s));
}

std::vector<command> supervisor_logic::terminate_child(const std::string& id) {
  if (exited_) return {};
  if (sequence_) {
    deferred_.push_back({deferred::kind::terminate, id, exit_kind::shutdown, 0});
    return {};
  }
  child* c = find(id);
  if (!c || c->state != child_state::running) return {};
  sequence s;
  s.to_terminate.push_back(id);
  return begin(std::move(s));
}

std::vector<command> supervisor_logic::start_child(const std::string& id) {
  if (exited_) return {};
  if (sequence_) {
    deferred_.push_back({deferred::kind::start, id, exit_kind::normal, 0});
    return {};
  }
  child* c = find(id);
  if (!c || (c->state != child_state::stopped && c->state != child_state::failed)) return {};
  // An operator retrying a child that degrade left failed: its own limit starts afresh.
  if (c->state == child_state::failed) c->own = restart_intensity{c->own.limit()};
  c->state = child_state::running;
  return {{command::kind::start, id, {}}};
}

bool supervisor_logic::reset_failed(const std::string& id) {
  child* c = find(id);
  if (!c || c->state != child_state::failed) return false;
  c->own = restart_intensity{c->own.limit()};
  c->state = child_state::stopped;
  return true;
}

bool supervisor_logic::add_child(child_spec spec) {
  if (exited_) return false;
  if (auto it = index_.find(spec.id); it != index_.end()) {
    if (children_[it->second].state != child_state::removed) return false;
    // A temporary child that was dropped may come back under the same name.
    children_[it->second] = child{std::move(spec)};
  } else {
    index_.emplace(spec.id, children_.size());
    children_.emplace_back(std::move(spec));
  }
  rebuild_needed_by();
  return true;
}

bool supervisor_logic::retire_child(const std::string& id) {
  child* c = find(id);
  if (!c) return false;
  if (in_sequence(id)) {
    c->retiring = true;
    return true;
  }
  return delete_child(id);
}

bool supervisor_logic::delete_child(const std::string& id) {
  // A child already removed (a temporary one that ended, a retired one) is deleted already: fine.
  if (auto it = index_.find(id); it != index_.end() && children_[it->second].state == child_state::removed) return true;
  child* c = find(id);
  if (!c || (c->state != child_state::stopped && c->state != child_state::failed) || in_sequence(id)) return false;
  c->state = child_state::removed;
  rebuild_needed_by();
  return true;
}

bool supervisor_logic::replace_child(child_spec spec) {
  child* c = find(spec.id);
  if (!c || (c->state != child_state::stopped && c->state != child_state::failed)) return false;
  const restart_intensity own = c->own;
  const child_state state = c->state;
  *c = child{std::move(spec)};
  c->own = own;  // the history of restarts stays with the child, as in OTP
  c->state = state;
  rebuild_needed_by();
  return true;
}

bool supervisor_logic::set_dependencies(const std::string& id, std::vector<std::string> depends_on) {
  child* c = find(id);
  if (!c) return false;
  c->spec.depends_on = std::move(depends_on);
  rebuild_needed_by();
  return true;
}

void supervisor_logic::rebuild_needed_by() {
  needed_by_.clear();
  for (const auto& c : children_) {
    if (c.state == child_state::removed) continue;
    for (const auto& d : c.spec.depends_on) needed_by_[d].push_back(c.spec.id);
  }
}

std::vector<command> supervisor_logic::begin(sequence s) {
  sequence_ = std::move(s);
  return advance();
}

bool supervisor_logic::needed_by_a_pending_sibling(const std::string& id) const {
  // Walk every sibling that depends on `id` transitively; a stopped one in the middle of the chain does not
  // cut it (w1 <- w2 <- w3 with w2 dead: w3 still stops before w1).
  std::vector<std::string> todo{id};
  std::unordered_set<std::string> seen{id};
  while (!todo.empty()) {
    const std::string next = std::move(todo.back());
    todo.pop_back();
    auto it = needed_by_.find(next);
    if (it == needed_by_.end()) continue;
    for (const auto& other : it->second) {
      if (!seen.insert(other).second) continue;
      const child* c = find(other);
      if (!c) continue;
      // A dependent still due for termination in this run, or being terminated, holds it back.
      if (c->state == child_state::terminating || in_sequence(other)) return true;
      todo.push_back(other);
    }
  }
  return false;
}

std::vector<command> supervisor_logic::advance() {
  std::vector<command> out;
  auto& s = *sequence_;
  // Drop what needs no termination any more (died meanwhile, or removed).
  // A child whose exit is still queued (it died while an earlier run went on) is already gone: skipped as in
  // OTP s22, never sent a terminate that no incarnation would answer.
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    const bool due = it->what == deferred::kind::exit && s.to_terminate.contains(it->id);
    if (!due) {
      ++it;
      continue;
    }
    if (child* c = find(it->id); c && c->state == child_state::running) c->state = c->after_stop();
    it = deferred_.erase(it);
  }
  s.to_terminate.erase_if([&](const std::string& id) {
    const child* c = find(id);
    return !c || c->state != child_state::running;
  });
  if (strategy_ == strategy::simple_one_for_one) {
    // Every child at once under one shared timeout (OTP s04, s04d).
    for (const auto& id : s.to_terminate) {
      find(id)->state = child_state::terminating;
      s.outstanding.insert(id);
      out.push_back({command::kind::terminate, id, {}});
    }
    s.to_terminate.clear();
  } else if (order_ == termination_order::strict) {
    // OTP: one at a time, last started first, each only after the previous is gone.
    if (s.outstanding.empty() && !s.to_terminate.empty()) {
      const std::string id = s.to_terminate.pop_front();
      find(id)->state = child_state::terminating;
      s.outstanding.insert(id);
      out.push_back({command::kind::terminate, id, {}});
    }
  } else {
    // Everyone no remaining sibling depends on, together, in reverse start order.
    std::vector<std::string> now;
    id_queue later;
    for (const auto& id : s.to_terminate) {
      if (needed_by_a_pending_sibling(id)) {
        later.push_back(id);
      } else {
        now.push_back(id);
      }
    }
    // Siblings that need each other (through their subtrees) would wait forever: fall back to OTP's order.
    if (now.empty() && s.outstanding.empty() && !later.empty()) now.push_back(later.pop_front());
    s.to_terminate = std::move(later);
    for (const auto& id : now) {
      find(id)->state = child_state::terminating;
      s.outstanding.insert(id);
      out.push_back({command::kind::terminate, id, {}});
    }
  }
  if (!s.outstanding.empty() || !s.to_terminate.empty()) return out;
  // Every termination is done: start the group, then possibly exit.
  sequence done = std::move(s);
  sequence_.reset();
  for (const auto& id : done.to_start) {
    child* c = find(id);
    if (!c || c->state != child_state::stopped) continue;
    c->state = child_state::running;
    out.push_back({command::kind::start, id, {}});
  }
  if (done.then_exit) {
    exited_ = true;
    deferred_.clear();
    out.push_back({command::kind::exit, {}, done.exit_note});
    return out;
  }
  auto more = drain_deferred();
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<command> supervisor_logic::on_terminated(const std::string& id) {
  if (!sequence_) {
    // A termination we no longer track (e.g. after give-up began). Keep the state honest anyway.
    if (child* c = find(id); c && c->state == child_state::terminating) c->state = c->after_stop();
    return {};
  }
  auto& s = *sequence_;
  if (s.outstanding.erase(id) == 0) return {};
  if (child* c = find(id)) {
    // OTP s19: temporary children terminated as part of a group are dropped, not restarted.
    c->state = c->after_stop();
  }
  return advance();
}

std::vector<command> supervisor_logic::drain_deferred() {
  std::vector<command> out;
  while (!deferred_.empty() && !sequence_ && !exited_) {
    deferred d = deferred_.front();
    deferred_.pop_front();
    std::vector<command> more;
    switch (d.what) {
      case deferred::kind::exit:
        if (child* c = find(d.id); c && c->state == child_state::running) more = handle_exit(*c, d.how, d.now);
        break;
      case deferred::kind::terminate: more = terminate_child(d.id); break;
      case deferred::kind::start: more = start_child(d.id); break;
      case deferred::kind::shutdown: more = shutdown(); break;
    }
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::optional<std::chrono::milliseconds> shutdown_timeout(bool is_supervisor, std::chrono::milliseconds stop_timeout) {
  if (is_supervisor) return std::nullopt;
  return std::max(stop_timeout, std::chrono::milliseconds{0}) + kShutdownGrace;
}

}  // namespace dynamod::behaviours
