// Linux capability names and numbers, as the kernel numbers them (linux/capability.h), and the sets a
// service's [security] section asks for, as bit masks the spawned child applies with raw syscalls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dynamod {

// "CAP_NET_BIND_SERVICE", "net_bind_service" -> 10; nullopt if unknown.
std::optional<int> capability_number(std::string name);
// 10 -> "CAP_NET_BIND_SERVICE"
std::string capability_name(int number);
// Highest capability number this table knows (the kernel may know fewer: PR_CAPBSET_DROP on an unknown one
// fails with EINVAL, which the child ignores).
int last_capability();

// Names (validated by the config parser) -> mask of their numbers.
uint64_t capability_mask(const std::vector<std::string>& names);

}  // namespace dynamod
