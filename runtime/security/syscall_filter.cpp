#include "runtime/security/syscall_filter.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dynamod {

namespace {

struct syscall_group {
  const char* name;
  const char* description;
  std::vector<const char*> members;
};

const std::vector<syscall_group>& groups() {
  static const std::vector<syscall_group> table = {
#include "runtime/security/syscall_groups.inc"
  };
  return table;
}

const syscall_group* find_group(const std::string& name) {
  for (const auto& g : groups()) {
    if (name == g.name) return &g;
  }
  return nullptr;
}

void expand(const std::string& name, std::set<std::string>& out, std::set<std::string>& seen_groups) {
  if (name.empty()) return;
  if (name[0] != '@') {
    out.insert(name);
    return;
  }
  if (!seen_groups.insert(name).second) return;
  if (const syscall_group* g = find_group(name)) {
    for (const char* m : g->members) expand(m, out, seen_groups);
  }
}

struct filter_deleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

}  // namespace

std::optional<std::string> unknown_syscall_name(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty()) return "'' is not a syscall name or @group";
    if (n[0] == '@') {
      if (!find_group(n)) {
        std::string known;
        for (const auto& g : syscall_group_names()) known += (known.empty() ? "" : ", ") + g;
        return "'" + n + "' is not a syscall group (" + known + ")";
      }
    } else if (seccomp_syscall_resolve_name(n.c_str()) == __NR_SCMP_ERROR) {
      return "'" + n + "' is not a syscall name or @group";
    }
  }
  return std::nullopt;
}

std::set<std::string> expand_syscall_names(const std::vector<std::string>& names) {
  std::set<std::string> out, seen;
  for (const auto& n : names) expand(n, out, seen);
  return out;
}

std::vector<std::string> syscall_group_names() {
  std::vector<std::string> out;
  for (const auto& g : groups()) out.emplace_back(g.name);
  return out;
}

std::optional<seccomp_program> build_seccomp_program(const syscall_filter_spec& spec, std::string& error) {
  if (spec.allow.empty() && spec.deny.empty()) return seccomp_program{};
  const uint32_t refuse = spec.kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM);
  const bool allow_list = !spec.allow.empty();
  std::unique_ptr<void, filter_deleter> ctx{seccomp_init(allow_list ? refuse : SCMP_ACT_ALLOW)};
  if (!ctx) {
    error = "seccomp: cannot create a filter";
    return std::nullopt;
  }
  // The child sets no_new_privs itself when it has to (before dropping root); libseccomp must not.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  std::vector<std::string> names = allow_list ? spec.allow : spec.deny;
  if (allow_list) names.emplace_back("@default");
  for (const auto& name : expand_syscall_names(names)) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR || nr < 0) continue;  // not a syscall on this architecture
    const int rc = seccomp_rule_add(ctx.get(), allow_list ? SCMP_ACT_ALLOW : refuse, nr, 0);
    if (rc < 0 && rc != -EEXIST) {
      error = "seccomp: rule for " + name + ": " + std::strerror(-rc);
      return std::nullopt;
    }
  }
  // libseccomp writes the program to an fd; a memfd hands it back as bytes.
  const int fd = memfd_create("dynamod-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string{"seccomp: memfd: "} + std::strerror(errno);
    return std::nullopt;
  }
  const int rc = seccomp_export_bpf(ctx.get(), fd);
  seccomp_program program;
  if (rc == 0) {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    program.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (size <= 0 || ::pread(fd, program.code.data(), static_cast<size_t>(size), 0) != size) program.code.clear();
  }
  ::close(fd);
  if (rc != 0 || program.code.empty()) {
    error = "seccomp: cannot export the filter";
    return std::nullopt;
  }
  return program;
}

}  // namespace dynamod
