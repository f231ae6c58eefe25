// What a service's [namespace] and [security] sections ask of its process, worked out in the runtime as
// plain data: the clone flags, the mount steps in order, hostname, capability masks, rlimits. The spawned
// child (spawn.cpp) only carries the steps out with raw syscalls. Pure, so the order is unit-tested.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config/service_config.hpp"

namespace dynamod {

struct mount_step {
  enum class kind {
    make_slave,    // mount propagation of the new namespace: host mounts still come in, ours never go out
    read_only,     // bind onto itself unless a mount point, then read-only recursively
    writable,      // clear read-only again (API file systems under protect-system = "strict")
    bind,          // source onto target, recursively
    tmpfs,         // a fresh tmpfs (private /tmp)
    proc,          // a /proc for the new pid namespace
    inaccessible,  // an empty read-only tmpfs (mode 000) over a directory, a mode-000 file over a file
  } what = kind::make_slave;
  std::string target{};
  std::string source{};  // bind: what; inaccessible: the mode-000 file for file targets
  bool optional = false;  // skip if the target does not exist (/boot, /efi)
  bool operator==(const mount_step&) const = default;
};

struct rlimit_setting {
  int resource;
  uint64_t soft, hard;  // RLIM_INFINITY for "infinity"
};

struct isolation_plan {
  int clone_flags = 0;          // CLONE_NEW{PID,NS,NET,UTS,IPC}: created with the process
  bool cgroup_namespace = false;  // unshared once the process is in its own cgroup
  bool user_namespace = false;    // unshared last: root inside is the service's user outside
  bool minimal_init = false;      // dynamod-nsinit becomes PID 1 of the new pid namespace and runs the service
  std::vector<mount_step> mounts;
  std::string hostname;
  bool loopback_up = false;
  std::optional<uint64_t> bounding;  // capabilities kept in the bounding set (unset: unchanged)
  uint64_t ambient = 0;
  bool no_new_privs = false;
  std::vector<rlimit_setting> rlimits;
};

// `inaccessible_file`: a mode-000 regular file the runtime keeps (bound over inaccessible files).
// `has_seccomp` and `drops_root` make no_new_privs implicit, as the kernel requires for an unprivileged
// process to load a filter (systemd does the same).
isolation_plan plan_isolation(const service_config& c, const std::string& inaccessible_file, bool drops_root);

// "nofile" -> RLIMIT_NOFILE; -1 if unknown.
int rlimit_resource(const std::string& name);

}  // namespace dynamod
