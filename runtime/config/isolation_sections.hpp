// The isolation sections of a service file ([cgroup], [namespace], [security]), read by parse_service.
#pragma once

#include "runtime/config/service_config.hpp"
#include "runtime/config/toml_reader.hpp"

namespace dynamod {

void read_cgroup_section(toml_reader& r, service_config& s);
void read_namespace_section(toml_reader& r, service_config& s);  // after [readiness]: checks tcp-port against net
void read_security_section(toml_reader& r, service_config& s);

}  // namespace dynamod
