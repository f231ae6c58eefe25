// The text of a JSON reply. Text from services (STATUS=, log lines) and from the file system (names) need
// not be UTF-8, and nlohmann::json::dump() throws on invalid UTF-8: an actor answering `status` must not
// die of a service's Latin-1 output, so such bytes become U+FFFD instead.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace dynamod {

inline std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dynamod
