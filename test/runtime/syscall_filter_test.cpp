#include "runtime/security/syscall_filter.hpp"

#include <gtest/gtest.h>

using namespace dynamod;

TEST(SyscallFilter, GroupsExpandRecursively) {
  auto names = expand_syscall_names({"@system-service"});
  EXPECT_TRUE(names.count("read"));     // via @basic-io
  EXPECT_TRUE(names.count("execve"));   // via @default
  EXPECT_TRUE(names.count("setuid"));   // via @setuid
  EXPECT_FALSE(names.count("mount"));
  EXPECT_FALSE(names.count("reboot"));
  auto mount = expand_syscall_names({"@mount", "ptrace"});
  EXPECT_TRUE(mount.count("mount"));
  EXPECT_TRUE(mount.count("umount2"));
  EXPECT_TRUE(mount.count("ptrace"));
  for (const char* g : {"@privileged", "@reboot", "@swap", "@raw-io", "@module", "@debug"}) {
    EXPECT_FALSE(expand_syscall_names({g}).empty()) << g;
  }
  EXPECT_TRUE(expand_syscall_names({"@reboot"}).count("reboot"));
  EXPECT_TRUE(expand_syscall_names({"@swap"}).count("swapon"));
  EXPECT_TRUE(expand_syscall_names({"@module"}).count("finit_module"));
}

TEST(SyscallFilter, UnknownNamesAreNamed) {
  EXPECT_FALSE(unknown_syscall_name({"read", "@mount"}).has_value());
  EXPECT_EQ(unknown_syscall_name({"read", "mountt"}).value_or(""), "'mountt' is not a syscall name or @group");
  EXPECT_NE(unknown_syscall_name({"@nothing"}).value_or("").find("is not a syscall group"), std::string::npos);
}

TEST(SyscallFilter, ProgramsAreBuiltForBothListKinds) {
  std::string error;
  auto none = build_seccomp_program({}, error);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->code.empty());
  auto deny = build_seccomp_program({{}, {"@mount"}, false}, error);
  ASSERT_TRUE(deny.has_value()) << error;
  EXPECT_GT(deny->code.size(), 5u);
  auto allow = build_seccomp_program({{"@system-service"}, {}, true}, error);
  ASSERT_TRUE(allow.has_value()) << error;
  EXPECT_GT(allow->code.size(), deny->code.size());
}
