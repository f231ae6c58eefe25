// dynamodctl called as poweroff, reboot, halt or shutdown (the dynamod-init package's symlinks, as sysvinit and
// systemd ship them): the traditional arguments mapped to `dynamodctl shutdown MODE`. Pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dynamod::ctl {

struct shutdown_request {
  std::string mode;   // "poweroff", "reboot" or "halt"; empty when `error` is set
  std::string error;  // why the arguments are refused, for the user
  bool help = false;  // --help: print shutdown_alias_usage
};

// std::nullopt when `program` (argv[0]'s last component) is not one of the four names.
std::optional<shutdown_request> shutdown_alias(const std::string& program, const std::vector<std::string>& args);

std::string shutdown_alias_usage(const std::string& program);

}  // namespace dynamod::ctl
