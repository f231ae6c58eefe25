// The cgroup v2 file system as dynamod uses it: a tree under /sys/fs/cgroup/dynamod that mirrors the
// supervision tree (supervisors are directories, each service a leaf), controllers enabled on the way down,
// limits written before the service's process is moved in. Every function reports failure as text naming
// the file; nothing here throws.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dynamod {

// "/sys/fs/cgroup" if a cgroup2 file system is mounted there, else nullopt (a v1 or hybrid host).
std::optional<std::string> cgroup2_mount();

// Creates `base` (e.g. /sys/fs/cgroup/dynamod) and enables the controllers in its parent and itself.
bool prepare_cgroup_base(const std::string& base, std::string& error);

// Creates base/relative ("web/httpd"), enabling controllers in every directory above the leaf.
bool create_cgroup(const std::string& base, const std::string& relative, std::string& error);

bool write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value, std::string& error);
std::optional<std::string> read_cgroup_file(const std::string& dir, const std::string& file);

std::vector<pid_t> cgroup_pids(const std::string& dir);
bool cgroup_populated(const std::string& dir);

// SIGKILL to every process in the cgroup, atomically (cgroup.kill, Linux 5.14), or by freezing it and
// killing each process on older kernels.
void kill_cgroup(const std::string& dir);
// `signo` to every process in the cgroup outside process group `skip_group` (the main process's, which was
// signalled as a group).
void signal_cgroup(const std::string& dir, int signo, pid_t skip_group);

// Removes the (empty) leaf; the supervisor directories stay. 0, or the errno: EBUSY while processes or child
// cgroups are in it, ENOENT when it is gone already.
int remove_cgroup(const std::string& dir);

}  // namespace dynamod
