#include "runtime/process/isolation_plan.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <map>

#include "runtime/security/capabilities.hpp"

namespace dynamod {

namespace {

bool has(const std::vector<std::string>& v, const char* x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

int rlimit_resource(const std::string& name) {
  static const std::map<std::string, int> table = {
      {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK}};
  auto it = table.find(name);
  return it == table.end() ? -1 : it->second;
}

isolation_plan plan_isolation(const service_config& c, const std::string& inaccessible_file, bool drops_root) {
  isolation_plan p;
  const auto& ns = c.namespaces;
  const bool pid = has(ns, "pid");
  // A new pid namespace needs its own /proc, so it always comes with a mount namespace.
  const bool mnt = has(ns, "mnt") || pid;
  if (pid) p.clone_flags |= CLONE_NEWPID;
  if (mnt) p.clone_flags |= CLONE_NEWNS;
  if (has(ns, "net")) p.clone_flags |= CLONE_NEWNET;
  if (has(ns, "uts")) p.clone_flags |= CLONE_NEWUTS;
  if (has(ns, "ipc")) p.clone_flags |= CLONE_NEWIPC;
  p.cgroup_namespace = has(ns, "cgroup");
  p.user_namespace = has(ns, "user");
  p.minimal_init = pid && !c.service_is_pid1;
  p.loopback_up = has(ns, "net");
  if (has(ns, "uts")) p.hostname = c.hostname;

  if (mnt) {
    p.mounts.push_back({mount_step::kind::make_slave, "/"});
    // Read-only first: everything mounted afterwards (binds, /tmp, /proc) stays as it asks to be.
    if (c.protect_system == "strict") {
      p.mounts.push_back({mount_step::kind::read_only, "/"});
      for (const char* api : {"/dev", "/proc", "/sys"}) p.mounts.push_back({mount_step::kind::writable, api, "", true});
    } else if (c.protect_system == "full") {  // as systemd's ProtectSystem=full
      for (const char* dir : {"/usr", "/boot", "/efi", "/etc"}) p.mounts.push_back({mount_step::kind::read_only, dir, "", true});
    }
    for (const auto& path : c.read_only_paths) p.mounts.push_back({mount_step::kind::read_only, path});
    for (const auto& b : c.bind_mounts) {
      p.mounts.push_back({mount_step::kind::bind, b.target, b.source});
      // A bind copies its source mount's flags, read-only under protect-system: set either way.
      p.mounts.push_back({b.writable ? mount_step::kind::writable : mount_step::kind::read_only, b.target});
    }
    if (c.private_tmp) p.mounts.push_back({mount_step::kind::tmpfs, "/tmp"});
    for (const auto& path : c.inaccessible_paths) {
      p.mounts.push_back({mount_step::kind::inaccessible, path, inaccessible_file});
    }
    if (pid) p.mounts.push_back({mount_step::kind::proc, "/proc"});
  }

  if (c.capabilities) p.bounding = capability_mask(*c.capabilities);
  p.ambient = capability_mask(c.ambient_capabilities);
  if (p.bounding) p.ambient &= *p.bounding;
  const bool seccomp = !c.seccomp_allow.empty() || !c.seccomp_deny.empty();
  p.no_new_privs = c.no_new_privileges || (seccomp && drops_root);
  for (const auto& [name, value] : c.rlimits) {
    const int resource = rlimit_resource(name);
    if (resource < 0) continue;
    const uint64_t v = value < 0 ? RLIM_INFINITY : static_cast<uint64_t>(value);
    p.rlimits.push_back({resource, v, v});
  }
  return p;
}

}  // namespace dynamod
