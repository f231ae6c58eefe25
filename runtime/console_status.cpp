#include "runtime/console_status.hpp"

#include <cstdlib>
#include <string>
#include <unistd.h>

#include "protocol/terminal_text.hpp"

namespace dynamod {

console_status::console_status(int fd) : fd_(fd), colour_(::isatty(fd) && std::getenv("NO_COLOR") == nullptr) {}

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
  std::lock_guard<std::mutex> guard{mutex_};
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + off, out.size() - off);
    if (n <= 0) return;  // the console is gone: status lines are best effort
    off += static_cast<size_t>(n);
  }
}

void console_status::ok(std::string_view text) { line("  OK  ", "\033[0;32m", text); }
void console_status::failed(std::string_view text) { line("FAILED", "\033[0;1;31m", text); }
void console_status::waiting(std::string_view text) { line(" WAIT ", "\033[0;33m", text); }
void console_status::info(std::string_view text) { line("  ..  ", "", text); }
void console_status::depend(std::string_view text) { line("DEPEND", "\033[0;1;33m", text); }

}  // namespace dynamod
