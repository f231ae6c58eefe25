#include "runtime/console_status.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "protocol/terminal_text.hpp"

namespace dynamod {

console_status::console_status(console_writer& out, int fd, status_level level)
    : out_(out), fd_(fd), colour_(::isatty(fd) && std::getenv("NO_COLOR") == nullptr), level_(level) {}

status_level status_level_from_cmdline(std::string_view cmdline) {
  status_level level = status_level::all;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    const size_t end = std::min(cmdline.find_first_of(" \t\n", pos), cmdline.size());
    const std::string_view word = cmdline.substr(pos, end - pos);
    pos = end + 1;
    constexpr std::string_view key = "dynamod.show_status=";
    if (word.substr(0, key.size()) == key) {
      const std::string_view v = word.substr(key.size());
      if (v == "yes" || v == "true" || v == "1" || v == "on") {
        level = status_level::all;
      } else if (v == "no" || v == "false" || v == "0" || v == "off") {
        level = status_level::none;
      } else if (v == "error" || v == "auto") {
        level = status_level::errors;
      }  // an unknown value: the previous setting stands
    }
  }
  return level;
}

void console_status::line(std::string_view tag, std::string_view colour, std::string_view text) {
  std::string out;
  out.reserve(text.size() + 32);
  out += '[';
  if (colour_ && !colour.empty()) {
    out += colour;
    out += tag;
    out += "\033[0m";
  } else {
    out += tag;
  }
  out += "] ";
  out += terminal_safe(text);  // names, reasons and paths come from files and services
  out += '\n';
  out_.write(fd_, std::move(out));
}

bool console_status::shows(bool trouble) const {
  return level_ == status_level::all || (trouble && level_ == status_level::errors);
}

void console_status::ok(std::string_view text) {
  if (shows(false)) line("  OK  ", "\033[0;32m", text);
}
void console_status::failed(std::string_view text) {
  if (shows(true)) line("FAILED", "\033[0;1;31m", text);
}
void console_status::waiting(std::string_view text) {
  if (shows(true)) line(" WAIT ", "\033[0;33m", text);
}
void console_status::info(std::string_view text) {
  if (shows(false)) line("  ..  ", "", text);
}
void console_status::depend(std::string_view text) {
  if (shows(true)) line("DEPEND", "\033[0;1;33m", text);
}

}  // namespace dynamod
