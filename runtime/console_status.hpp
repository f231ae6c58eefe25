// systemd-style boot status lines on the console: "[  OK  ] Started web.", "[FAILED] Failed to start db: ...".
// Shared by all actors; lines go out through the console writer, whole and in order, without waiting for it.
#pragma once

#include <chrono>
#include <string_view>

#include "runtime/console_writer.hpp"

namespace dynamod {

// How much goes to the console, as systemd's show_status: everything, only trouble (failures, dependency
// failures, slow starts and stops), or nothing. A serial console at 115200 baud takes about 3 ms a line; ten
// thousand "Started" lines are half a minute of boot.
enum class status_level { all, errors, none };

// From the kernel command line: `dynamod.show_status=yes|no|error` (also true/false/1/0, and auto = error);
// the default is everything. Unlike systemd, `quiet` alone does not hide them: it quiets the kernel, and a
// booting dynamod system (the demo boots with `quiet`) still shows what it starts.
status_level status_level_from_cmdline(std::string_view cmdline);

class console_status {
 public:
  // `fd` is not owned; `out` must outlive this. Colour only on a terminal and when NO_COLOR is unset.
  console_status(console_writer& out, int fd, status_level level = status_level::all);
  void ok(std::string_view text);
  void failed(std::string_view text);
  void waiting(std::string_view text);  // "[ WAIT ] ..." for starts or stops that take long
  void depend(std::string_view text);   // "[DEPEND] Dependency failed for ..."
  void info(std::string_view text);     // indented, no tag
  // Waits (at most `limit`) until what was said is on the console: before handing over to PID 1, whose
  // lines must follow ours.
  void flush(std::chrono::milliseconds limit) { out_.flush(limit); }

 private:
  void line(std::string_view tag, std::string_view colour, std::string_view text);
  bool shows(bool trouble) const;  // trouble: a failure, a dependency failure, a slow start or stop
  console_writer& out_;
  int fd_;
  bool colour_;
  status_level level_;
};

}  // namespace dynamod
