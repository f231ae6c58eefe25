#include "runtime/process/credentials.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>

namespace dynamod {

namespace {

bool numeric(const std::string& s) {
  return !s.empty() && s.size() < 11 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
}

std::optional<gid_t> lookup_group(const std::string& g) {
  if (numeric(g)) return static_cast<gid_t>(std::stoul(g));
  std::vector<char> buf(16384);
  group gr{};
  group* result = nullptr;
  if (::getgrnam_r(g.c_str(), &gr, buf.data(), buf.size(), &result) != 0 || result == nullptr) return std::nullopt;
  return gr.gr_gid;
}

}  // namespace

std::optional<credentials> resolve_credentials(const std::string& user, const std::string& group,
                                               const std::vector<std::string>& supplementary, std::string& error) {
  credentials c;
  if (!user.empty()) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* result = nullptr;
    if (numeric(user)) {
      ::getpwuid_r(static_cast<uid_t>(std::stoul(user)), &pw, buf.data(), buf.size(), &result);
      c.uid = static_cast<uid_t>(std::stoul(user));
    } else {
      ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &result);
      if (result == nullptr) {
        error = "unknown user '" + user + "'";
        return std::nullopt;
      }
      c.uid = pw.pw_uid;
    }
    if (result != nullptr) {
      c.gid = pw.pw_gid;
      c.home = pw.pw_dir;
      c.user_name = pw.pw_name;
      // As login does: the user's own group memberships.
      int n = 64;
      std::vector<gid_t> groups(static_cast<size_t>(n));
      if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<size_t>(n));
        ::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n);
      }
      groups.resize(static_cast<size_t>(n));
      c.groups = groups;
    } else {
      c.gid = static_cast<gid_t>(*c.uid);  // a bare uid without passwd entry: its own group number
      c.user_name = user;
    }
  }
  if (!group.empty()) {
    auto g = lookup_group(group);
    if (!g) {
      error = "unknown group '" + group + "'";
      return std::nullopt;
    }
    c.gid = *g;
  }
  for (const auto& s : supplementary) {
    auto g = lookup_group(s);
    if (!g) {
      error = "unknown group '" + s + "'";
      return std::nullopt;
    }
    c.groups.push_back(*g);
  }
  if (c.gid && c.groups.empty()) c.groups.push_back(*c.gid);
  return c;
}

}  // namespace dynamod
