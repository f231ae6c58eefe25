#include "dbus/settings_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dynamod::dbus {

namespace {

std::string join(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") return path;
  return (root.back() == '/' ? root.substr(0, root.size() - 1) : root) + path;
}

std::string why(const char* what, const std::string& path) { return std::string(what) + " " + path + ": " + strerror(errno); }

}  // namespace

std::optional<std::string> read_setting_file(const std::string& root, const std::string& path) {
  const int fd = ::open(join(root, path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) break;  // these files are a few lines; never hold more than 1 MiB of one
  }
  ::close(fd);
  return text;
}

std::string write_setting_file(const std::string& root, const std::string& path, const std::string& text) {
  const std::string full = join(root, path);
  const std::string tmp = full + ".dynamod-new";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return why("cannot create", tmp);
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string e = why("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) < 0 || ::close(fd) < 0) {
    const std::string e = why("cannot write", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), full.c_str()) < 0) {
    const std::string e = why("cannot replace", full);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

std::string remove_setting_file(const std::string& root, const std::string& path) {
  if (::unlink(join(root, path).c_str()) < 0 && errno != ENOENT) return why("cannot remove", path);
  return {};
}

std::optional<std::string> read_setting_link(const std::string& root, const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(join(root, path).c_str(), buf, sizeof buf - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::string write_setting_link(const std::string& root, const std::string& path, const std::string& target) {
  const std::string full = join(root, path);
  const std::string tmp = full + ".dynamod-new";
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) < 0) return why("cannot link", tmp);
  if (::rename(tmp.c_str(), full.c_str()) < 0) {
    const std::string e = why("cannot replace", full);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace dynamod::dbus
