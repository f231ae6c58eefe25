// Turns a checked configuration tree into the supervision tree to build: for each supervisor, its
// children (services and supervisors) in start order. Start order follows the dependencies, also across
// sibling subtrees (a supervisor whose services need another sibling's services starts after it), so that
// stopping in reverse start order stops dependents before what they depend on. Ties: name order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/config/config_loader.hpp"

namespace dynamod {

struct plan_node {
  enum class kind { service, supervisor } what = kind::service;
  std::string name;
  std::shared_ptr<const service_config> service;        // for services
  std::shared_ptr<const supervisor_config> supervisor;  // for supervisors
  std::vector<plan_node> children;                      // for supervisors, in start order
  std::vector<std::string> needs;  // siblings whose subtrees this one's services wait for
  bool waits = false;              // a service that waits for others (or is waited on via `before`)
};

// The root node is the "root" supervisor. The tree's services and supervisors are moved into the plan.
plan_node make_supervision_plan(config_tree&& tree);

// Every service in the plan, depth-first in start order (for listings and the dependency tracker).
std::vector<std::shared_ptr<const service_config>> services_in_order(const plan_node& root);

}  // namespace dynamod
