// Bounds on what reaches the TOML parser. toml++ 3.3 parses dotted keys, table headers, arrays and inline
// tables recursively, without a depth limit: a 70 KB key of 35,000 parts overflows the stack. A service file
// is a few hundred bytes, so anything far beyond these bounds is refused before parsing, with its position.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "runtime/config/config_error.hpp"

namespace dynamod {

struct toml_limits {
  size_t max_bytes = 1 << 20;   // the whole file
  int max_nesting = 32;         // arrays and inline tables inside each other
  int max_key_parts = 32;       // parts of one dotted key or table header
};

// The first bound `text` exceeds, as an error at its line and column (key empty); nothing if within bounds.
// A lexical scan only (strings and comments are skipped): what it accepts may still be bad TOML.
std::optional<config_error> exceeds_toml_limits(std::string_view text, const std::string& path,
                                                const toml_limits& limits = {});

}  // namespace dynamod
