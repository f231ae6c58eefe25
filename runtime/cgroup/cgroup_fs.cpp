#include "runtime/cgroup/cgroup_fs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include "runtime/cgroup/cgroup_settings.hpp"

namespace dynamod {

namespace {

// Creates `dir` unless it exists; `created` says which.
bool make_dir(const std::string& dir, std::string& error, bool* created = nullptr) {
  const bool made = ::mkdir(dir.c_str(), 0755) == 0;
  if (created) *created = made;
  if (made || errno == EEXIST) return true;
  error = "mkdir " + dir + ": " + std::strerror(errno);
  return false;
}

// Enables in `dir`'s subtree_control what `dir` itself offers; a controller the kernel refuses is left out.
void enable_controllers(const std::string& dir) {
  auto available = read_cgroup_file(dir, "cgroup.controllers");
  if (!available) return;
  std::string ignored;
  for (const auto& c : controllers_to_enable(*available)) write_cgroup_file(dir, "cgroup.subtree_control", "+" + c, ignored);
}

}  // namespace

std::optional<std::string> cgroup2_mount() {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) return std::nullopt;
  return std::string{"/sys/fs/cgroup"};
}

bool prepare_cgroup_base(const std::string& base, std::string& error) {
  const std::string parent = base.substr(0, base.rfind('/'));
  enable_controllers(parent);
  if (!make_dir(base, error)) return false;
  enable_controllers(base);
  return true;
}

bool create_cgroup(const std::string& base, const std::string& relative, std::string& error) {
  std::string dir = base;
  size_t start = 0;
  while (start < relative.size()) {
    size_t slash = relative.find('/', start);
    if (slash == std::string::npos) slash = relative.size();
    dir += "/" + relative.substr(start, slash - start);
    bool created = false;
    if (!make_dir(dir, error, &created)) return false;
    // A supervisor's directory (only children below): its controllers are enabled once, when it is made,
    // not again at every start of a service under it.
    if (created && slash < relative.size()) enable_controllers(dir);
    start = slash + 1;
  }
  return true;
}

bool write_cgroup_file(const std::string& dir, const std::string& file, const std::string& value, std::string& error) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    error = "writing '" + value + "' to " + path + ": " + std::strerror(n < 0 ? saved : EIO);
    return false;
  }
  return true;
}

std::optional<std::string> read_cgroup_file(const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

std::vector<pid_t> cgroup_pids(const std::string& dir) {
  std::vector<pid_t> out;
  auto text = read_cgroup_file(dir, "cgroup.procs");
  if (!text) return out;
  std::istringstream in(*text);
  long pid;
  while (in >> pid) out.push_back(static_cast<pid_t>(pid));
  return out;
}

bool cgroup_populated(const std::string& dir) {
  auto text = read_cgroup_file(dir, "cgroup.events");
  if (!text) return false;
  return parse_flat_keyed(*text)["populated"] != 0;
}

void kill_cgroup(const std::string& dir) {
  std::string error;
  if (write_cgroup_file(dir, "cgroup.kill", "1", error)) return;
  // Before cgroup.kill: freeze so nothing forks while we go through the list.
  write_cgroup_file(dir, "cgroup.freeze", "1", error);
  for (pid_t pid : cgroup_pids(dir)) ::kill(pid, SIGKILL);
  write_cgroup_file(dir, "cgroup.freeze", "0", error);
}

void signal_cgroup(const std::string& dir, int signo, pid_t skip_group) {
  for (pid_t pid : cgroup_pids(dir)) {
    if (pid > 1 && (skip_group <= 0 || ::getpgid(pid) != skip_group)) ::kill(pid, signo);
  }
}

int remove_cgroup(const std::string& dir) { return ::rmdir(dir.c_str()) == 0 ? 0 : errno; }

}  // namespace dynamod
