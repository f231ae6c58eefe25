// Human output of dynamodctl: aligned tables, a status page, the actor tree. Colour only when asked
// (a terminal without NO_COLOR). Pure: JSON (as documented in docs/control-protocol.md) in, text out.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace dynamod::ctl {

struct style {
  bool colour = false;
  std::string state(const std::string& s) const;  // "running" in green, "failed" in red, ...
  std::string bold(const std::string& s) const;
  std::string dim(const std::string& s) const;
};

std::string format_duration_ms(int64_t ms);  // "850ms", "12s", "5m 3s", "2h 10m", "3d 4h"

std::string render_list(const nlohmann::json& services, const style& st);
std::string render_status(const nlohmann::json& service, const style& st);
std::string render_tree(const nlohmann::json& root, const style& st);
std::string render_operation(const std::string& command, const nlohmann::json& results, const style& st);
std::string render_reload(const nlohmann::json& diff, const style& st);
std::string render_check(const nlohmann::json& check, const style& st);

}  // namespace dynamod::ctl
