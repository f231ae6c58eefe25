#include "pid1/proc_stat.hpp"

#include <cstring>

namespace dynamod::init {

bool parse_proc_stat(const char* text, unsigned long length, int& pid, char* comm, unsigned long comm_capacity,
                     int& ppid) {
  // "123 (comm with ) maybe) S 1 ..." : comm ends at the LAST ')'.
  const char* open = static_cast<const char*>(std::memchr(text, '(', length));
  const char* close = nullptr;
  for (const char* p = text + length; p > text; --p) {
    if (p[-1] == ')') {
      close = p - 1;
      break;
    }
  }
  if (open == nullptr || close == nullptr || close < open) return false;
  pid = 0;
  for (const char* p = text; p < open; ++p) {
    if (*p == ' ') continue;
    if (*p < '0' || *p > '9') return false;
    pid = pid * 10 + (*p - '0');
  }
  const unsigned long n = static_cast<unsigned long>(close - open - 1);
  const unsigned long copy = n < comm_capacity - 1 ? n : comm_capacity - 1;
  std::memcpy(comm, open + 1, copy);
  comm[copy] = '\0';
  const char* p = close + 1;
  const char* end = text + length;
  while (p < end && *p == ' ') ++p;
  if (p >= end) return false;
  ++p;  // state
  while (p < end && *p == ' ') ++p;
  if (p >= end || *p < '0' || *p > '9') return false;
  ppid = 0;
  for (; p < end && *p >= '0' && *p <= '9'; ++p) ppid = ppid * 10 + (*p - '0');
  return pid > 0;
}

}  // namespace dynamod::init
