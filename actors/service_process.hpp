// What every process of a service runs with: the main process, its stop-exec and its exec readiness check
// (systemd runs ExecStop with the service's own credentials and sandbox, and so do we). Built once per start by
// the service actor (service_spawn.cpp) and shared, read-only, with its readiness probe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/process/isolation_plan.hpp"
#include "runtime/process/spawn.hpp"
#include "runtime/security/syscall_filter.hpp"

namespace dynamod {

struct service_process_setup {
  std::vector<std::string> env;
  std::string workdir;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;
  std::optional<mode_t> umask;
  isolation_plan isolation;
  seccomp_program seccomp;
  std::string nsinit;
  std::string cgroup_dir;  // the service's cgroup, joined by every process (empty: none)

  // A spawn_spec running `argv` as the service; it points into *this, which must outlive the spawn.
  spawn_spec spec_for(std::vector<std::string> argv) const {
    spawn_spec spec;
    spec.argv = std::move(argv);
    spec.env = env;
    spec.workdir = workdir;
    spec.uid = uid;
    spec.gid = gid;
    spec.supplementary_groups = groups;
    spec.umask = umask;
    spec.isolation = &isolation;
    spec.seccomp = &seccomp;
    spec.nsinit = nsinit;
    return spec;
  }
};

// Runs a helper of the service (stop-exec, check-exec) as the service: its setup, `extra_env` added, inside its
// cgroup (a cgroup that cannot be joined fails the spawn: the helper must not escape the service's limits).
spawn_result spawn_service_helper(const service_process_setup& setup, std::vector<std::string> argv,
                                  const std::vector<std::string>& extra_env = {});

}  // namespace dynamod
