#include "behaviours/notify_policy.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace dynamod;
using namespace dynamod::behaviours;

TEST(NotifyAccess, MainHearsOnlyTheMainProcess) {
  EXPECT_TRUE(notify_sender_allowed(notify_access::main, 100, 100, 0));
  EXPECT_FALSE(notify_sender_allowed(notify_access::main, 101, 100, 0)) << "a child of the main process";
  EXPECT_FALSE(notify_sender_allowed(notify_access::main, 200, 100, 200)) << "the stop command";
  EXPECT_FALSE(notify_sender_allowed(notify_access::main, 0, 0, 0)) << "no credentials, no main process yet";
}

TEST(NotifyAccess, ExecAddsTheStopCommandAllAnyProcessNoneNobody) {
  EXPECT_TRUE(notify_sender_allowed(notify_access::exec, 100, 100, 0));
  EXPECT_TRUE(notify_sender_allowed(notify_access::exec, 200, 100, 200));
  EXPECT_FALSE(notify_sender_allowed(notify_access::exec, 101, 100, 200));
  EXPECT_FALSE(notify_sender_allowed(notify_access::exec, 101, 100, 0));
  EXPECT_TRUE(notify_sender_allowed(notify_access::all, 101, 100, 0));
  EXPECT_FALSE(notify_sender_allowed(notify_access::none, 100, 100, 0));
}

namespace {
// 1 <- 50 (runtime) <- 100 (main) <- 101 <- 102;  1 <- 300 (someone else's, root)
std::optional<pid_t> parent_in_tree(pid_t pid) {
  static const std::map<pid_t, pid_t> parents{{50, 1}, {100, 50}, {101, 100}, {102, 101}, {300, 1}};
  auto it = parents.find(pid);
  if (it == parents.end()) return std::nullopt;
  return it->second;
}
}  // namespace

TEST(NotifyAccess, DescendantsAreFoundUpTheTreeAndNothingElse) {
  EXPECT_TRUE(descends_from(101, 100, 50, parent_in_tree));
  EXPECT_TRUE(descends_from(102, 100, 50, parent_in_tree));
  EXPECT_FALSE(descends_from(100, 100, 50, parent_in_tree)) << "not its own descendant";
  EXPECT_FALSE(descends_from(300, 100, 50, parent_in_tree));
  EXPECT_FALSE(descends_from(50, 100, 50, parent_in_tree)) << "the runtime";
  EXPECT_FALSE(descends_from(999, 100, 50, parent_in_tree)) << "gone";
  EXPECT_FALSE(descends_from(102, 100, 50, parent_in_tree, 1)) << "beyond the depth bound";
  EXPECT_FALSE(descends_from(101, 1, 50, parent_in_tree)) << "pid 1 is everyone's ancestor, no service's";
}

TEST(MainPidClaim, OnlyALiveProcessOfTheServiceItself) {
  main_pid_claim c;
  c.current_main = 100;
  c.runtime_pid = 50;
  c.candidate = 101;
  c.alive = true;
  c.descends_from_main = true;
  EXPECT_EQ(refuse_main_pid(c), std::nullopt);

  auto outside = c;
  outside.descends_from_main = false;  // a root-owned sleep somebody else started
  EXPECT_EQ(refuse_main_pid(outside), "the process is not a descendant of the service's main process");

  auto pid1 = c;
  pid1.candidate = 1;
  EXPECT_TRUE(refuse_main_pid(pid1));
  auto runtime = c;
  runtime.candidate = 50;
  EXPECT_TRUE(refuse_main_pid(runtime));
  auto gone = c;
  gone.alive = false;
  EXPECT_EQ(refuse_main_pid(gone), "no such process");
  auto garbage = c;
  garbage.candidate = 0;
  EXPECT_TRUE(refuse_main_pid(garbage));
}

TEST(MainPidClaim, WithACgroupMembershipDecidesNotAncestry) {
  main_pid_claim c;
  c.current_main = 100;
  c.runtime_pid = 50;
  c.candidate = 400;
  c.alive = true;
  c.in_service_cgroup = true;  // a daemon that double-forked: reparented, still in the cgroup
  EXPECT_EQ(refuse_main_pid(c), std::nullopt);
  c.in_service_cgroup = false;
  c.descends_from_main = true;  // moved out of the cgroup: no longer the service's
  EXPECT_EQ(refuse_main_pid(c), "the process is not in the service's cgroup");
}
