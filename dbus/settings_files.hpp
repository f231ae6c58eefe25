// Reading and replacing the small files of hostname1, timedate1 and locale1 under the settings root ("/" on a
// real system, a scratch directory in tests). A replacement is a temporary file renamed over the old one, so a
// reader sees the old or the new text, never half of it.
#pragma once

#include <optional>
#include <string>

namespace dynamod::dbus {

std::optional<std::string> read_setting_file(const std::string& root, const std::string& path);
// Empty on success, else why not.
std::string write_setting_file(const std::string& root, const std::string& path, const std::string& text);
std::string remove_setting_file(const std::string& root, const std::string& path);
std::optional<std::string> read_setting_link(const std::string& root, const std::string& path);
std::string write_setting_link(const std::string& root, const std::string& path, const std::string& target);

}  // namespace dynamod::dbus
