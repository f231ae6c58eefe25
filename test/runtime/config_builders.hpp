// Minimal valid service and supervisor definitions for tests that build configuration trees in code.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/config/service_config.hpp"

namespace dynamod::testing {

inline service_config svc(const std::string& name, std::vector<std::string> requires_ = {},
                          const std::string& sup = "root") {
  service_config s;
  s.name = name;
  s.file = name + ".toml";
  s.exec = {"/bin/true"};
  s.requires_ = std::move(requires_);
  s.supervisor = sup;
  return s;
}

inline supervisor_config sup(const std::string& name, const std::string& parent = "root") {
  supervisor_config s;
  s.name = name;
  s.file = name + ".toml";
  s.parent = parent;
  return s;
}

}  // namespace dynamod::testing
