// A service's [cgroup] section as the interface files the kernel reads (memory.max, cpu.max, ...), and the
// readers for the files dynamod watches. Pure: the writing is cgroup_fs, the watching the cgroup watcher actor.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/config/service_config.hpp"

namespace dynamod {

// (file, value) in the order to write them; io.max gets one write per device line.
std::vector<std::pair<std::string, std::string>> cgroup_settings(const service_config& c);

// Controllers every service cgroup gets (status needs memory.current and pids.current) plus what `c` limits,
// out of those the kernel offers (`available`: the parent's cgroup.controllers, space-separated).
std::vector<std::string> controllers_to_enable(const std::string& available);

// "populated 1\nfrozen 0\n" -> {populated: 1, frozen: 0}; also memory.events, cpu.stat, io.stat-like files.
std::map<std::string, uint64_t> parse_flat_keyed(const std::string& text);

// "max\n" -> nullopt (no limit); "1048576\n" -> 1048576.
std::optional<uint64_t> parse_limit(const std::string& text);

// The cgroup of a process from /proc/PID/cgroup's v2 line ("0::/dynamod/web/httpd" -> "/dynamod/web/httpd").
std::optional<std::string> unified_cgroup(const std::string& proc_pid_cgroup);

}  // namespace dynamod
