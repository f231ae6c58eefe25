// The dependency graph between services: requires (hard), wants (soft), after (ordering) and before
// (ordering, reversed). Pure: built from configs, it answers what a service waits for, whether it may
// start given the others' states (the dynamic frontier), the start order, and where the cycles are.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dynamod {

struct service_config;

// What the graph needs to know about another service's progress.
enum class dependency_state {
  pending,   // not ready yet (waiting, starting, restarting)
  ready,     // readiness reached (oneshot: exited 0)
  failed,    // failed, or blocked by its own failed dependency
  inactive,  // stopped on purpose, absent or disabled
  abandoned, // failed, and no group rollback will follow: left down by the root's give-up = "degrade", or
             // blocked by a failed requirement (it waits, it has not exited). Blocks requirers, orders nothing.
};

// A requirement in this state blocks whoever requires it (failed, stopped or abandoned; can_start).
inline bool blocks_requirers(dependency_state s) {
  return s == dependency_state::failed || s == dependency_state::inactive || s == dependency_state::abandoned;
}

class dependency_graph {
 public:
  struct waits {
    std::vector<std::string> required;  // must be ready; failure blocks
    std::vector<std::string> ordered;   // wants / after / before-reversed: wait while pending, never blocks
  };

  // `services` in tie-break order (file-name order). Dependencies on unknown names are kept:
  // callers decide whether that is an error (requires) or nothing (the rest).
  explicit dependency_graph(const std::vector<const service_config*>& services);

  const waits& waits_for(const std::string& name) const;
  std::vector<std::string> required_by(const std::string& name) const;  // direct dependents via requires
  bool contains(const std::string& name) const { return index_.count(name) > 0; }

  enum class verdict { wait, start, blocked };
  struct decision {
    verdict what = verdict::wait;
    std::string on;      // the dependency that is waited on / that blocks
  };
  // May `name` start, given everyone's state? (Unknown names count as inactive.)
  // `rolled_back_by`: the services whose failure makes `name`'s supervisor restart `name` too (its
  // one_for_all or rest_for_one group, see supervisor_logic::rolled_back_by). An ordering dependency among
  // them that failed does not release `name`: the round it belongs to is over and will be rolled back (OTP
  // never starts a child after one that failed to start), so `name` waits, and the rollback stops it while it
  // waits. Elsewhere `after` and `wants` only order: a failed one releases its dependents, as in systemd.
  decision can_start(const std::string& name, const std::map<std::string, dependency_state>& states,
                     const std::vector<std::string>& rolled_back_by = {}) const;
  // Every service in `candidates` that may start now (the frontier), in tie-break order.
  std::vector<std::string> frontier(const std::vector<std::string>& candidates,
                                    const std::map<std::string, dependency_state>& states) const;

  // Each cycle as a path a -> b -> ... -> a (first element repeated at the end), smallest name first.
  std::vector<std::vector<std::string>> cycles() const;
  // Topological order (dependencies first), ties by the order given to the constructor. Services on a
  // cycle are appended at the end in tie-break order.
  std::vector<std::string> start_order() const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, size_t> index_;
  std::vector<waits> waits_;
  std::vector<std::vector<size_t>> edges_;  // i -> j: i waits for j (known services only)
};

// "a -> b -> a"; a longer ring shows its first names: "a -> b -> ... (1995 more) -> a".
std::string format_cycle(const std::vector<std::string>& cycle, size_t max_names = 8);

}  // namespace dynamod
