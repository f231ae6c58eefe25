#include "runtime/config/config_loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/config/config_parser.hpp"
#include "test/runtime/config_builders.hpp"

using namespace dynamod;
using dynamod::testing::sup;
using dynamod::testing::svc;

namespace {

std::string errors_of(const config_tree& t) {
  std::string out;
  for (const auto& e : t.errors) out += e.describe() + "\n";
  return out;
}

}  // namespace

TEST(ConfigTree, RootSupervisorIsImplicit) {
  auto t = check_config_tree({svc("a")}, {}, {});
  ASSERT_EQ(t.supervisors.size(), 1u);
  EXPECT_EQ(t.supervisors[0].name, "root");
  EXPECT_EQ(t.services.size(), 1u);
}

TEST(ConfigTree, UnknownSupervisorDisablesTheService) {
  auto t = check_config_tree({svc("a", {}, "nowhere"), svc("b")}, {}, {});
  EXPECT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.disabled.at("a"), "supervisor 'nowhere' is unavailable");
  EXPECT_EQ(errors_of(t), "a.toml: service.supervisor: unknown supervisor 'nowhere'\n");
}

TEST(ConfigTree, UnknownRequirementIsAnErrorAndDisablesTheDependent) {
  auto t = check_config_tree({svc("app", {"db"})}, {}, {});
  EXPECT_TRUE(t.services.empty());
  EXPECT_EQ(t.disabled.at("app"), "requires unknown service 'db'");
  EXPECT_EQ(errors_of(t), "app.toml: dependencies.requires: unknown service 'db'\n");
}

TEST(ConfigTree, ABrokenServiceDisablesItsDependentsTransitively) {
  auto t = check_config_tree({svc("app", {"db"}), svc("ui", {"app"}), svc("other")}, {}, {},
                             {{"db", "its file db.toml has errors"}});
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "other");
  EXPECT_EQ(t.disabled.at("app"), "requires 'db', which is disabled (its file db.toml has errors)");
  EXPECT_EQ(t.disabled.at("ui").rfind("requires 'app', which is disabled", 0), 0u);
}

TEST(ConfigTree, CyclesAreRejectedWithTheCyclePrinted) {
  auto t = check_config_tree({svc("a", {"b"}), svc("b", {"a"}), svc("c", {"a"}), svc("d")}, {}, {});
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "d");
  EXPECT_EQ(t.disabled.at("a"), "dependency cycle: a -> b -> a");
  EXPECT_NE(errors_of(t).find("a.toml: dependencies: dependency cycle: a -> b -> a"), std::string::npos);
  EXPECT_EQ(t.disabled.at("c").rfind("requires 'a', which is disabled (dependency cycle", 0), 0u);
}

TEST(ConfigTree, DuplicateNamesKeepTheFirst) {
  auto a1 = svc("a");
  auto a2 = svc("a");
  a2.file = "other.toml";
  auto t = check_config_tree({a1, a2}, {}, {});
  EXPECT_EQ(t.services.size(), 1u);
  EXPECT_EQ(errors_of(t), "other.toml: service.name: service 'a' is already defined in a.toml\n");
}

TEST(ConfigTree, SupervisorWithUnknownParentTakesItsServicesDown) {
  auto t = check_config_tree({svc("a", {}, "mid"), svc("b", {}, "low")}, {sup("mid", "ghost"), sup("low", "mid")}, {});
  EXPECT_TRUE(t.services.empty());
  EXPECT_EQ(t.supervisors.size(), 1u);
  EXPECT_EQ(errors_of(t).find("mid.toml: supervisor.parent: unknown supervisor 'ghost'"), 0u);
}

TEST(ConfigTree, ReadsADirectoryAndSkipsOnlyTheBrokenFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("dynamod-tree-" + std::to_string(::getpid()));
  fs::create_directories(dir / "services");
  fs::create_directories(dir / "supervisors");
  std::ofstream(dir / "services" / "good.toml") << "[service]\nname = \"good\"\nexec = [\"/bin/true\"]\n";
  std::ofstream(dir / "services" / "bad.toml") << "[service]\nname = \"bad\"\n";
  std::ofstream(dir / "services" / "needs-bad.toml")
      << "[service]\nname = \"needs-bad\"\nexec = [\"/bin/true\"]\n[dependencies]\nrequires = [\"bad\"]\n";
  std::ofstream(dir / "services" / "notes.txt") << "ignored";
  std::ofstream(dir / "supervisors" / "web.toml") << "[supervisor]\nname = \"web\"\nstrategy = \"one-for-all\"\n";
  auto t = load_config_tree(dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "good");
  ASSERT_EQ(t.supervisors.size(), 2u);
  EXPECT_EQ(t.supervisors[1].strategy, supervisor_strategy::one_for_all);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_NE(t.errors[0].describe().find("bad.toml:1:1: service.exec: required key is missing"), std::string::npos);
  EXPECT_EQ(t.disabled.at("needs-bad").rfind("requires 'bad', which is disabled", 0), 0u);
}

TEST(ConfigTree, TheShippedDemoConfigurationIsValid) {
  auto t = load_config_tree(std::string{DYNAMOD_SOURCE_DIR} + "/etc/dynamod");
  EXPECT_TRUE(t.errors.empty()) << errors_of(t);
  EXPECT_GE(t.services.size(), 4u);
}
