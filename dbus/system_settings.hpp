// The files hostname1, timedate1 and locale1 read and write, as Debian keeps them: /etc/hostname,
// /etc/machine-info, /etc/localtime (a relative link into /usr/share/zoneinfo) and /etc/timezone,
// /etc/default/locale, /etc/vconsole.conf and /etc/default/keyboard. Pure: validation of what a client sends and
// text in, text out; the actors do the file I/O (write to a temporary file, rename).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynamod::dbus {

// systemd's hostname_is_valid: 1 to 64 bytes, dot-separated labels of [A-Za-z0-9-] that neither start nor end
// with '-' and are not empty (no leading, trailing or double dot).
bool hostname_is_valid(std::string_view name);
// A pretty hostname (/etc/machine-info PRETTY_HOSTNAME): any UTF-8 text without control characters, at most 255
// bytes.
bool pretty_hostname_is_valid(std::string_view name);

// KEY=VALUE files (machine-info, default/locale, vconsole.conf, default/keyboard): shell-style assignments,
// values optionally in double or single quotes, `#` comment lines. Unparseable lines are ignored on reading.
std::map<std::string, std::string> parse_assignments(std::string_view text);
// The file's text with `changes` applied: a key with a value is set (in place if present, else appended), a key
// with nullopt removed; comments, blank lines and other keys are kept as they were. Values that need it are
// double-quoted with `"`, `\`, `$` and backquote escaped.
std::string update_assignments(std::string_view text,
                               const std::map<std::string, std::optional<std::string>>& changes);

// systemd's timezone_is_valid without the file check: a zoneinfo name such as "Europe/Berlin" or "UTC":
// [A-Za-z0-9_+-] components separated by '/', none empty (no '.' at all, so no "." or ".."), not starting with
// '/', at most 255 bytes.
bool timezone_name_is_valid(std::string_view tz);
// /etc/localtime's target for a zone: "../usr/share/zoneinfo/Europe/Berlin".
std::string localtime_link_target(std::string_view tz);
// The zone a /etc/localtime link names (relative or absolute, with or without /usr, "posix/" or "right/"
// prefixes), or nullopt when it points elsewhere.
std::optional<std::string> timezone_from_link(std::string_view target);

// A locale assignment as localectl sends it ("LANG=de_DE.UTF-8"): a key locale1 knows and a value of
// [A-Za-z0-9_.@:-]. On success `key` and `value` are filled.
bool locale_assignment_is_valid(std::string_view assignment, std::string* key = nullptr, std::string* value = nullptr);
// The keys locale1 knows, in the order its Locale property lists them.
const std::vector<std::string>& locale_keys();

}  // namespace dynamod::dbus
