// Parses one service or supervisor file: every key and type is checked, and every problem is reported
// with file:line:column and the key. Pure (text in, struct or errors out); config_loader reads the files.
#pragma once

#include <optional>
#include <string>

#include "runtime/config/config_error.hpp"
#include "runtime/config/service_config.hpp"

namespace dynamod {

// `path` is used in messages only. Returns nothing if any error was found (then `errors` says why).
std::optional<service_config> parse_service(const std::string& text, const std::string& path, config_errors& errors);
std::optional<supervisor_config> parse_supervisor(const std::string& text, const std::string& path,
                                                  config_errors& errors);

}  // namespace dynamod
