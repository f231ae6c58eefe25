// systemd-style boot status lines on the console: "[  OK  ] Started web.", "[FAILED] Failed to start db: ...".
// One writer shared by all actors; each line is one write(2), so lines never interleave.
#pragma once

#include <mutex>
#include <string_view>

namespace dynamod {

class console_status {
 public:
  // `fd` is not owned. Colour only on a terminal and when NO_COLOR is unset.
  explicit console_status(int fd);
  void ok(std::string_view text);
  void failed(std::string_view text);
  void waiting(std::string_view text);  // "[ WAIT ] ..." for starts or stops that take long
  void depend(std::string_view text);   // "[DEPEND] Dependency failed for ..."
  void info(std::string_view text);     // indented, no tag

 private:
  void line(std::string_view tag, std::string_view colour, std::string_view text);
  int fd_;
  bool colour_;
  std::mutex mutex_;
};

}  // namespace dynamod
