// How a process ended, decoded from a waitpid status, and how that maps onto OTP's vocabulary.
#pragma once

#include <string>

namespace dynamod {

struct process_exit {
  enum class kind { exited, killed, dumped } how = kind::exited;
  int code = 0;  // exit status or signal number

  static process_exit from_wait_status(int status);
  // OTP "normal": exit status 0. Everything else is abnormal for restart-type purposes.
  bool clean() const { return how == kind::exited && code == 0; }
  std::string describe() const;  // "exited with status 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)"
};

std::string signal_name(int signo);  // "SIGTERM"; "signal 77" for unknown numbers

}  // namespace dynamod
