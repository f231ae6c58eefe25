#include "pid1/module_loader.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pid1/file_io.hpp"
#include "pid1/init_log.hpp"
#include "pid1/module_deps.hpp"

namespace dynamod::init {

namespace {

// A trimmed initramfs modules.dep is a few KiB; a whole distribution's is under 1 MiB. Untouched .bss costs nothing.
char g_dep_text[1 << 20];
constexpr size_t kMaxChain = 64;
module_path g_chain[kMaxChain];

// The module's name from its path, for messages: "kernel/fs/ext4/ext4.ko" -> "ext4".
void module_name(const char* path, size_t len, char* out, size_t cap) {
  size_t start = len;
  while (start > 0 && path[start - 1] != '/') --start;
  size_t n = 0;
  for (size_t i = start; i < len && path[i] != '.' && n + 1 < cap; ++i) out[n++] = path[i];
  out[n] = '\0';
}

// 0, or -errno (-EEXIST: already loaded).
int load_one(const char* dir, const module_path& m) {
  char path[512];
  const size_t dlen = std::strlen(dir);
  if (dlen + 1 + m.len + 1 > sizeof path) return -ENAMETOOLONG;
  std::memcpy(path, dir, dlen);
  path[dlen] = '/';
  std::memcpy(path + dlen + 1, m.path, m.len);
  path[dlen + 1 + m.len] = '\0';
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const long rc = ::syscall(SYS_finit_module, fd, "", 0);
  const int err = rc < 0 ? errno : 0;
  ::close(fd);
  return -err;
}

// Reads modules.dep of the running release into g_dep_text; false (logged) without one.
bool read_dep_file(const char* modules_root, char* dir, size_t dir_cap, size_t& len) {
  struct utsname uts {};
  if (::uname(&uts) < 0) {
    log_error(log_line{} << "uname: " << errno_text{errno});
    return false;
  }
  log_line dir_line;
  dir_line << modules_root << "/" << uts.release;
  if (dir_line.size() + 1 > dir_cap) return false;
  std::memcpy(dir, dir_line.data(), dir_line.size());
  dir[dir_line.size()] = '\0';
  char dep_path[320];
  log_line dep_line;
  dep_line << dir << "/modules.dep";
  if (dep_line.size() + 1 > sizeof dep_path) return false;
  std::memcpy(dep_path, dep_line.data(), dep_line.size());
  dep_path[dep_line.size()] = '\0';
  const long n = read_file(dep_path, g_dep_text, sizeof g_dep_text);
  if (n < 0) {
    // No modules in this initramfs: the drivers are built in, or the search reports what is missing.
    log_debug(log_line{} << "no " << dep_path << ": " << errno_text{static_cast<int>(-n)});
    return false;
  }
  len = static_cast<size_t>(n);
  return true;
}

// Loads `name` after everything it needs; stops at the first module that fails (what needs it cannot load).
void load_chain(const char* dir, size_t len, const char* name, module_load_report& report) {
  const size_t count = module_load_order(g_dep_text, len, name, g_chain, kMaxChain);
  if (count == 0 || count > kMaxChain) {
    log_warning(log_line{} << "module " << name << ": not in modules.dep, or its dependencies are unreadable");
    ++report.failed;
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const int rc = load_one(dir, g_chain[i]);
    char what[64];
    module_name(g_chain[i].path, g_chain[i].len, what, sizeof what);
    if (rc == 0) {
      ++report.loaded;
      log_debug(log_line{} << "loaded module " << what);
    } else if (rc == -EEXIST) {
      ++report.present;
    } else if (rc == -ENODEV) {
      // Hardware-specific (crc32c-intel without SSE 4.2): not for this machine, its alternative loads too.
      log_debug(log_line{} << "module " << what << " does not apply to this machine");
      return;
    } else {
      ++report.failed;
      log_error(log_line{} << "cannot load module " << what << ": " << errno_text{-rc});
      return;
    }
  }
}

}  // namespace

module_load_report load_initramfs_modules(const char* modules_root, module_set which) {
  module_load_report report;
  char dir[256];
  size_t len = 0;
  if (!read_dep_file(modules_root, dir, sizeof dir, len)) return report;
  // Line by line: the initramfs' modules.dep is written in load order (soft dependencies first).
  for_each_dep_line(g_dep_text, len, [&](const char* path, size_t path_len, const char*, size_t) {
    if (is_filesystem_module(g_dep_text, len, path, path_len) == (which == module_set::filesystems)) {
      char name[64];
      module_name(path, path_len, name, sizeof name);
      load_chain(dir, len, name, report);
    }
    return true;
  });
  return report;
}

module_load_report load_initramfs_module(const char* modules_root, const char* name) {
  module_load_report report;
  char dir[256];
  size_t len = 0;
  if (read_dep_file(modules_root, dir, sizeof dir, len)) load_chain(dir, len, name, report);
  return report;
}

}  // namespace dynamod::init
