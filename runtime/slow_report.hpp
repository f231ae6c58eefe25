// What the console says about slow starts and stops. One line per slow service while there are few; past
// `max_lines`, the longest waits and one line for the rest: 10,000 services stopping at once are a handful
// of lines every few seconds, not 10,000 (a serial console takes ~3 ms a line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dynamod {

struct slow_item {
  std::string text;     // "waiting for web to stop (SIGTERM sent)"
  int64_t seconds = 0;  // how long it has waited
};

std::vector<std::string> slow_lines(std::vector<slow_item> items, size_t max_lines);

}  // namespace dynamod
