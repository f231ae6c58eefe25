#include "runtime/process/wait_status.hpp"

#include <csignal>
#include <cstring>
#include <sys/wait.h>

namespace dynamod {

process_exit process_exit::from_wait_status(int status) {
  process_exit e;
  if (WIFEXITED(status)) {
    e.how = kind::exited;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.how = WCOREDUMP(status) ? kind::dumped : kind::killed;
    e.code = WTERMSIG(status);
  }
  return e;
}

std::string signal_name(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  if (abbrev == nullptr) return "signal " + std::to_string(signo);
  return std::string{"SIG"} + abbrev;
}

std::string process_exit::describe() const {
  switch (how) {
    case kind::exited: return "exited with status " + std::to_string(code);
    case kind::killed: return "killed by " + signal_name(code);
    case kind::dumped: return "killed by " + signal_name(code) + " (core dumped)";
  }
  return "ended";
}

}  // namespace dynamod
