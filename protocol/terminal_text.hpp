// Text from configuration files, services and clients is untrusted: printed raw, a name holding a newline
// forges extra lines and an ANSI escape rewrites the terminal. Everything that quotes such text for a person
// (config errors, dynamodctl tables, console status lines, the runtime's log) goes through here; JSON
// output stays exact (JSON escapes control characters itself).
#pragma once

#include <string>
#include <string_view>

namespace dynamod {

// C0 controls, DEL, the C1 controls (U+0080..U+009F) and bytes that are not UTF-8 become visible escapes:
// "\n", "\t", "\r", "\e" for ESC, "\xNN" otherwise; a backslash stays a backslash. Printable text, including
// valid multi-byte UTF-8, is unchanged. With keep_tabs, a tab passes (for service output in tables).
std::string terminal_safe(std::string_view text, bool keep_tabs = false);

// True when terminal_safe would change nothing.
bool is_terminal_safe(std::string_view text);

}  // namespace dynamod
