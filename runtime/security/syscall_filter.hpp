// seccomp for services: [security] seccomp-allow / seccomp-deny lists of syscall names and systemd's named
// groups (@system-service, @privileged, @mount, ...: syscall_groups.inc), turned into a BPF program by
// libseccomp in the runtime. The spawned child only loads the finished program (one syscall), after every
// other step of its set-up, so the filter never restricts dynamod's own work.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dynamod {

// Names in a list that are neither a syscall libseccomp knows nor a group: the config parser's error text
// ("'mountt' is not a syscall or @group"), or nullopt if all are fine.
std::optional<std::string> unknown_syscall_name(const std::vector<std::string>& names);

// The syscall names a list stands for, groups expanded (nested groups too).
std::set<std::string> expand_syscall_names(const std::vector<std::string>& names);

// The names of every group, for documentation and errors.
std::vector<std::string> syscall_group_names();

struct syscall_filter_spec {
  std::vector<std::string> allow;  // non-empty: allow-list (plus @default, which a process cannot live without)
  std::vector<std::string> deny;   // non-empty: deny-list
  bool kill = false;               // a filtered call kills the process; otherwise it fails with EPERM
};

struct seccomp_program {
  std::vector<sock_filter> code;  // empty: no filter
};

// Builds the program; on failure returns nullopt and says why in `error`.
std::optional<seccomp_program> build_seccomp_program(const syscall_filter_spec& spec, std::string& error);

}  // namespace dynamod
