#include "runtime/state/volatile_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime/runtime_options.hpp"

namespace dynamod {

namespace {

constexpr const char* kParts[] = {"services", "supervisors", "log"};

bool on_memory_filesystem(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) < 0) return false;
  return s.f_type == TMPFS_MAGIC || s.f_type == RAMFS_MAGIC;
}

// FNV-1a: the same state directory maps to the same name in every version of the runtime (its successor after a
// crash must find the records).
std::string name_for(const std::string& state_dir, uid_t uid) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : state_dir) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "dynamod-%u-%016llx", static_cast<unsigned>(uid), static_cast<unsigned long long>(h));
  return buf;
}

// The link <state>/<part> -> <dir>/<part>, replacing a stale link (the state directory is ours alone).
bool link_part(const std::string& state_dir, const std::string& dir, const char* part) {
  const std::string target = dir + "/" + part, link = state_dir + "/" + part;
  if (::mkdir(target.c_str(), 0700) < 0 && errno != EEXIST) return false;
  char current[4096];
  const ssize_t n = ::readlink(link.c_str(), current, sizeof current - 1);
  if (n >= 0 && std::string(current, static_cast<size_t>(n)) == target) return true;
  if (n >= 0) ::unlink(link.c_str());
  return ::symlink(target.c_str(), link.c_str()) == 0;
}

// Undoes link_part for every part that is a link.
void unlink_parts(const std::string& state_dir) {
  for (const char* part : kParts) {
    struct stat st {};
    const std::string link = state_dir + "/" + part;
    if (::lstat(link.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) ::unlink(link.c_str());
  }
}

}  // namespace

volatile_placement place_volatile_state(const std::string& state_dir, uid_t uid) {
  volatile_placement in_place{state_dir, false, {}};
  if (on_memory_filesystem(state_dir)) return in_place;
  for (const char* part : kParts) {
    struct stat st {};
    if (::lstat((state_dir + "/" + part).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      in_place.note = state_dir + "/" + part + " holds a previous runtime's state: kept on its disk filesystem";
      return in_place;
    }
  }
  if (!on_memory_filesystem("/dev/shm")) {
    in_place.note = "no tmpfs at /dev/shm: records and log FIFOs stay in " + state_dir + " (a disk filesystem)";
    return in_place;
  }
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(state_dir, ec);
  const std::string dir = "/dev/shm/" + name_for(ec ? state_dir : canonical.string(), uid);
  if (auto wrong = check_private_dir(dir, uid)) {
    in_place.note = *wrong + "; records and log FIFOs stay in " + state_dir;
    return in_place;
  }
  for (const char* part : kParts) {
    if (!link_part(state_dir, dir, part)) {
      in_place.note = std::string{"cannot link "} + state_dir + "/" + part + ": " + std::strerror(errno) +
                      "; records and log FIFOs stay in " + state_dir;
      unlink_parts(state_dir);  // none of the links half-made: one place for everything
      return in_place;
    }
  }
  return volatile_placement{dir, true, "records and log FIFOs in " + dir + " (tmpfs), linked from " + state_dir};
}

void remove_volatile_state(const std::string& state_dir, const volatile_placement& p) {
  if (!p.redirected) return;
  unlink_parts(state_dir);
  std::error_code ec;
  std::filesystem::remove_all(p.dir, ec);
}

}  // namespace dynamod
