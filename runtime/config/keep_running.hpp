#pragma once
// Reload must never lose a running service because its file broke: a service that is in the running plan but
// disabled by the new configuration (its file has errors, its supervisor's file has errors, it depends on such a
// service, ...) keeps its previous definition, as systemd keeps a unit running whose file no longer loads.
// Deleting the file still removes the service.
#include <map>
#include <string>

#include "runtime/config/config_loader.hpp"
#include "runtime/config/supervision_plan.hpp"

namespace dynamod {

// Puts the previous definitions back into `fresh` (with the supervisors they need) and returns
// name -> why the previous definition was kept. Removes those names from fresh.disabled.
std::map<std::string, std::string> keep_running_definitions(config_tree& fresh, const plan_node& current);

}  // namespace dynamod
