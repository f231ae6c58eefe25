#include "runtime/process/isolation_plan.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

using namespace dynamod;
using kind = mount_step::kind;

namespace {

service_config with_namespaces(std::vector<std::string> ns) {
  service_config c;
  c.name = "s";
  c.exec = {"/bin/true"};
  c.namespaces = std::move(ns);
  return c;
}

std::vector<kind> kinds(const isolation_plan& p) {
  std::vector<kind> out;
  for (const auto& m : p.mounts) out.push_back(m.what);
  return out;
}

}  // namespace

TEST(IsolationPlan, NothingAskedNothingDone) {
  auto p = plan_isolation(with_namespaces({}), "/run/dynamod/inaccessible", false);
  EXPECT_EQ(p.clone_flags, 0);
  EXPECT_TRUE(p.mounts.empty());
  EXPECT_FALSE(p.minimal_init);
  EXPECT_FALSE(p.bounding.has_value());
  EXPECT_FALSE(p.no_new_privs);
}

TEST(IsolationPlan, APidNamespaceBringsAMountNamespaceItsOwnProcAndAMinimalInit) {
  auto p = plan_isolation(with_namespaces({"pid"}), "", false);
  EXPECT_EQ(p.clone_flags, CLONE_NEWPID | CLONE_NEWNS);
  EXPECT_TRUE(p.minimal_init);
  EXPECT_EQ(kinds(p), (std::vector<kind>{kind::make_slave, kind::proc}));
  auto c = with_namespaces({"pid"});
  c.service_is_pid1 = true;
  EXPECT_FALSE(plan_isolation(c, "", false).minimal_init);
}

TEST(IsolationPlan, EachNamespaceMapsToItsFlag) {
  auto p = plan_isolation(with_namespaces({"net", "uts", "ipc", "cgroup", "user"}), "", false);
  EXPECT_EQ(p.clone_flags, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  EXPECT_TRUE(p.loopback_up);
  EXPECT_TRUE(p.cgroup_namespace);
  EXPECT_TRUE(p.user_namespace);
}

TEST(IsolationPlan, ReadOnlyComesFirstSoLaterMountsKeepTheirOwnMode) {
  auto c = with_namespaces({"mnt", "uts"});
  c.hostname = "box";
  c.protect_system = "strict";
  c.read_only_paths = {"/srv"};
  c.bind_mounts = {{"/var/lib/a", "/data", true}, {"/etc/a", "/etc/a", false}};
  c.private_tmp = true;
  c.inaccessible_paths = {"/root"};
  auto p = plan_isolation(c, "/run/dynamod/inaccessible", false);
  EXPECT_EQ(p.hostname, "box");
  ASSERT_EQ(p.mounts.size(), 12u);
  EXPECT_EQ(p.mounts[0], (mount_step{kind::make_slave, "/"}));
  EXPECT_EQ(p.mounts[1], (mount_step{kind::read_only, "/"}));
  EXPECT_EQ(p.mounts[2], (mount_step{kind::writable, "/dev", "", true}));
  EXPECT_EQ(p.mounts[4], (mount_step{kind::writable, "/sys", "", true}));
  EXPECT_EQ(p.mounts[5], (mount_step{kind::read_only, "/srv"}));
  EXPECT_EQ(p.mounts[6], (mount_step{kind::bind, "/data", "/var/lib/a"}));
  EXPECT_EQ(p.mounts[7], (mount_step{kind::writable, "/data"}))
      << "a bind copies the read-only flag of its source's mount (here /, made read-only)";
  EXPECT_EQ(p.mounts[8], (mount_step{kind::bind, "/etc/a", "/etc/a"}));
  EXPECT_EQ(p.mounts[9], (mount_step{kind::read_only, "/etc/a"})) << "a bind mount is read-only unless writable";
  EXPECT_EQ(p.mounts[10], (mount_step{kind::tmpfs, "/tmp"}));
  EXPECT_EQ(p.mounts[11], (mount_step{kind::inaccessible, "/root", "/run/dynamod/inaccessible"}));
}

TEST(IsolationPlan, ProtectSystemFullCoversUsrBootEfiAndEtcWhereTheyExist) {
  auto c = with_namespaces({"mnt"});
  c.protect_system = "full";
  auto p = plan_isolation(c, "", false);
  ASSERT_EQ(p.mounts.size(), 5u);
  EXPECT_EQ(p.mounts[1], (mount_step{kind::read_only, "/usr", "", true}));
  EXPECT_EQ(p.mounts[2], (mount_step{kind::read_only, "/boot", "", true}));
  EXPECT_EQ(p.mounts[4], (mount_step{kind::read_only, "/etc", "", true}));
}

TEST(IsolationPlan, CapabilitiesBecomeMasksAndAmbientStaysInsideTheBoundingSet) {
  auto c = with_namespaces({});
  c.capabilities = std::vector<std::string>{"CAP_NET_BIND_SERVICE", "chown"};
  c.ambient_capabilities = {"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"};
  auto p = plan_isolation(c, "", true);
  ASSERT_TRUE(p.bounding.has_value());
  EXPECT_EQ(*p.bounding, (uint64_t{1} << 10) | (uint64_t{1} << 0));
  EXPECT_EQ(p.ambient, uint64_t{1} << 10);
  c.capabilities = std::vector<std::string>{};
  EXPECT_EQ(*plan_isolation(c, "", true).bounding, 0u) << "an empty list drops every capability";
}

TEST(IsolationPlan, SeccompForAnUnprivilegedServiceImpliesNoNewPrivileges) {
  auto c = with_namespaces({});
  c.seccomp_deny = {"@mount"};
  EXPECT_FALSE(plan_isolation(c, "", false).no_new_privs) << "root may load a filter as it is";
  EXPECT_TRUE(plan_isolation(c, "", true).no_new_privs);
  c.seccomp_deny.clear();
  c.no_new_privileges = true;
  EXPECT_TRUE(plan_isolation(c, "", false).no_new_privs);
}

TEST(IsolationPlan, ResourceLimits) {
  auto c = with_namespaces({});
  c.rlimits = {{"nofile", 4096}, {"core", -1}};
  auto p = plan_isolation(c, "", false);
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].resource, RLIMIT_CORE);
  EXPECT_EQ(p.rlimits[0].soft, RLIM_INFINITY);
  EXPECT_EQ(p.rlimits[1].resource, RLIMIT_NOFILE);
  EXPECT_EQ(p.rlimits[1].hard, 4096u);
}
