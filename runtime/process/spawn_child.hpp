// Internal to spawn.cpp: what the cloned child does between clone() and execve(). The child shares the
// runtime's memory (CLONE_VM|CLONE_VFORK) while the runtime's thread waits, so it reads only what the parent
// prepared in child_context, allocates nothing, takes no lock, and calls the kernel directly. A failing step
// is written into the context (errno and the step's name) before _exit(127).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>

namespace dynamod::spawn_internal {

constexpr int kMaxFds = 64;
constexpr int kMaxMounts = 64;
constexpr int kMaxRlimits = 16;

struct child_mount {
  int kind;  // mount_step::kind
  const char* target;
  const char* source;
  bool optional;
};

struct child_context {
  int unshare_fds_below;  // > 0: cloned with CLONE_FILES; keep a private copy of only the fds below this
  const char* path;       // what to exec (the service, or dynamod-nsinit)
  char* const* argv;
  char* const* envp;
  const char* workdir;
  int sources[kMaxFds];  // sources[i] becomes fd targets[i]
  int targets[kMaxFds];
  int fd_count;
  char* pid_slots[8];  // "NAME=" followed by room for the pid digits, inside envp
  int pid_slot_count;
  bool set_gid, set_uid, new_session;
  gid_t gid;
  uid_t uid;
  const gid_t* groups;
  size_t group_count;
  bool set_umask;
  mode_t umask_value;
  unsigned long nofile_soft;
  // isolation
  int cgroup_procs_fd;  // -1: stay in the runtime's cgroup
  bool cgroup_namespace;
  child_mount mounts[kMaxMounts];
  int mount_count;
  const char* hostname;  // nullptr: keep
  bool loopback_up;
  bool drop_bounding;
  uint64_t bounding_keep;
  uint64_t ambient;
  int last_capability;
  bool user_namespace;
  const char* uid_map;  // "0 UID 1\n"
  const char* gid_map;
  bool no_new_privs;
  const sock_fprog* seccomp;  // nullptr: no filter
  struct {
    int resource;
    uint64_t soft, hard;
  } rlimits[kMaxRlimits];
  int rlimit_count;
  // results
  int error;
  const char* step;
  char step_text[160];  // a step naming a path ("read-only /srv")
};

int child_main(void* arg);

}  // namespace dynamod::spawn_internal
