#include "pid1/file_limit.hpp"

#include <cerrno>
#include <sys/resource.h>

#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"

namespace dynamod::init {

namespace {

// fd_holder's table (two FIFOs per service) plus room for PID 1's own descriptors.
constexpr rlim_t kInitSoftLimit = 32768;
rlim_t inherited_soft = 0;  // 0: never changed

// PID 1's soft limit up to kInitSoftLimit (bounded by the hard limit), remembering the inherited one.
void raise_own_soft_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) {
    log_warning(log_line{} << "getrlimit(RLIMIT_NOFILE): " << errno_text{errno});
    return;
  }
  const rlim_t wanted = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > kInitSoftLimit ? kInitSoftLimit : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) return;
  const rlim_t old = limit.rlim_cur;
  limit.rlim_cur = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) {
    log_warning(log_line{} << "cannot raise the file descriptor soft limit: " << errno_text{errno});
    return;
  }
  inherited_soft = old;
}

}  // namespace

void restore_inherited_file_limit() {
  if (inherited_soft == 0) return;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return;  // the child keeps PID 1's; nothing to report from here
  limit.rlim_cur = inherited_soft;
  (void)::setrlimit(RLIMIT_NOFILE, &limit);  // cannot fail: lowering the soft limit below the hard one
}

bool parse_nr_open(const char* text, size_t length, uint64_t& out) {
  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' ')) --length;
  if (length == 0 || length > 19) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (v == 0) return false;
  out = v;
  return true;
}

static void raise_hard_limit() {
  char text[32];
  const long n = read_file("/proc/sys/fs/nr_open", text, sizeof text);
  uint64_t nr_open = 0;
  if (n < 0 || !parse_nr_open(text, static_cast<size_t>(n), nr_open)) {
    log_line l;
    l << "cannot read fs.nr_open";
    if (n < 0) {
      l << ": " << errno_text{static_cast<int>(-n)};
    } else {
      l << " (not a number)";
    }
    log_warning(l << "; keeping the file descriptor limit");
    return;
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) {
    log_warning(log_line{} << "getrlimit(RLIMIT_NOFILE): " << errno_text{errno});
    return;
  }
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= nr_open) return;
  const rlim_t old_max = limit.rlim_max;
  limit.rlim_max = static_cast<rlim_t>(nr_open);
  if (limit.rlim_cur > limit.rlim_max) limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) {
    log_warning(log_line{} << "cannot raise the file descriptor hard limit to fs.nr_open " << nr_open << ": "
                           << errno_text{errno});
    return;
  }
  log_notice(log_line{} << "file descriptor hard limit raised from " << static_cast<unsigned long long>(old_max)
                        << " to " << nr_open << " (fs.nr_open)");
}

void raise_file_limit() {
  raise_hard_limit();
  raise_own_soft_limit();
}

}  // namespace dynamod::init
