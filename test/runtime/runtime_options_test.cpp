#include "runtime/runtime_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace dynamod;

TEST(RuntimeOptions, LogGroupIsAnOptionWithAValue) {
  runtime_options o;
  EXPECT_FALSE(parse_runtime_options({"--log-group", "adm"}, {}, 0, o));
  EXPECT_EQ(o.log_group, "adm");
  runtime_options missing;
  EXPECT_TRUE(parse_runtime_options({"--log-group"}, {}, 0, missing));
}

TEST(RuntimeOptions, TheDBusFaceIsTheMachinesInitsOnly) {
  runtime_options system, user, forced, refused;
  ASSERT_FALSE(parse_runtime_options({}, {}, 0, system));
  ASSERT_FALSE(parse_runtime_options({"--user"}, {}, 1000, user));
  ASSERT_FALSE(parse_runtime_options({"--user", "--dbus", "--settings-root", "/tmp/r"}, {}, 1000, forced));
  ASSERT_FALSE(parse_runtime_options({"--no-dbus"}, {}, 0, refused));
  EXPECT_TRUE(dbus_wanted(system, true));
  EXPECT_FALSE(dbus_wanted(system, false)) << "a container's /run and bus may be its host's";
  EXPECT_FALSE(dbus_wanted(user, true));
  EXPECT_TRUE(dbus_wanted(forced, false));
  EXPECT_EQ(forced.dbus.settings_root, "/tmp/r");
  EXPECT_FALSE(dbus_wanted(refused, true));
  runtime_options bad;
  EXPECT_TRUE(parse_runtime_options({"--system-bus"}, {}, 0, bad));
}

TEST(RuntimeOptions, OnlyTheDefaultUserModeStateDirMustBePrivate) {
  runtime_options user;
  ASSERT_FALSE(parse_runtime_options({"--user"}, {}, 1000, user));
  EXPECT_TRUE(user.private_state_dir);
  EXPECT_EQ(user.paths.state_dir, "/tmp/dynamod-1000");
  runtime_options chosen;
  ASSERT_FALSE(parse_runtime_options({"--user", "--state-dir", "/srv/x"}, {}, 1000, chosen));
  EXPECT_FALSE(chosen.private_state_dir);  // the user chose it
  runtime_options system;
  ASSERT_FALSE(parse_runtime_options({}, {}, 0, system));
  EXPECT_FALSE(system.private_state_dir);
}

class PrivateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dynamod-private-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    path_ = base_ + "/state";
  }
  void TearDown() override { std::filesystem::remove_all(base_); }
  std::string base_, path_;
};

TEST_F(PrivateDir, AMissingDirectoryIsCreatedPrivate) {
  EXPECT_FALSE(check_private_dir(path_, ::getuid()));
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_FALSE(check_private_dir(path_, ::getuid()));  // and accepted as it is
}

TEST_F(PrivateDir, ADirectoryOthersCanReachIsRefused) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0777), 0);
  auto error = check_private_dir(path_, ::getuid());
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("mode 0777"), std::string::npos) << *error;
}

TEST_F(PrivateDir, ADirectoryOfAnotherUserIsRefused) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  auto error = check_private_dir(path_, ::getuid() + 1);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("belongs to uid"), std::string::npos) << *error;
}

TEST_F(PrivateDir, ASymlinkOrAFileIsRefused) {
  ASSERT_EQ(::symlink(base_.c_str(), path_.c_str()), 0);
  auto error = check_private_dir(path_, ::getuid());
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("symbolic link"), std::string::npos) << *error;
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  FILE* f = std::fopen(path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  error = check_private_dir(path_, ::getuid());
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("not a directory"), std::string::npos) << *error;
}
