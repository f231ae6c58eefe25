#include "runtime/config/service_config.hpp"

namespace dynamod {

const char* to_string(service_type t) {
  switch (t) {
    case service_type::simple: return "simple";
    case service_type::oneshot: return "oneshot";
    case service_type::forking: return "forking";
    case service_type::notify: return "notify";
  }
  return "?";
}
const char* to_string(restart_policy p) {
  switch (p) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "?";
}
const char* to_string(readiness_type t) {
  switch (t) {
    case readiness_type::none: return "none";
    case readiness_type::notify: return "notify";
    case readiness_type::tcp_port: return "tcp-port";
    case readiness_type::exec: return "exec";
    case readiness_type::fd: return "fd";
  }
  return "?";
}
const char* to_string(notify_access a) {
  switch (a) {
    case notify_access::none: return "none";
    case notify_access::main: return "main";
    case notify_access::exec: return "exec";
    case notify_access::all: return "all";
  }
  return "?";
}
const char* to_string(supervisor_strategy s) {
  switch (s) {
    case supervisor_strategy::one_for_one: return "one-for-one";
    case supervisor_strategy::one_for_all: return "one-for-all";
    case supervisor_strategy::rest_for_one: return "rest-for-one";
    case supervisor_strategy::simple_one_for_one: return "simple-one-for-one";
  }
  return "?";
}

const char* to_string(give_up_action a) {
  switch (a) {
    case give_up_action::degrade: return "degrade";
    case give_up_action::poweroff: return "poweroff";
    case give_up_action::reboot: return "reboot";
    case give_up_action::emergency: return "emergency";
  }
  return "?";
}

bool same_definition(service_config a, service_config b) {
  a.file.clear();
  b.file.clear();
  a.start_at_boot = b.start_at_boot;
  a.enabled = b.enabled;
  a.positions.clear();
  b.positions.clear();
  return a == b;
}

bool same_definition(supervisor_config a, supervisor_config b) {
  a.file.clear();
  b.file.clear();
  a.positions.clear();
  b.positions.clear();
  return a == b;
}

bool service_config::uses_cgroup_limits() const {
  return memory_max.set || memory_high.set || memory_swap_max.set || cpu_weight || !cpu_max.empty() || pids_max ||
         io_weight || !io_max.empty();
}

}  // namespace dynamod
