#include "runtime/config/keep_running.hpp"

#include <gtest/gtest.h>

#include "test/runtime/config_builders.hpp"

using namespace dynamod;
using dynamod::testing::sup;
using dynamod::testing::svc;

namespace {

plan_node running(std::vector<service_config> services, std::vector<supervisor_config> supervisors) {
  return make_supervision_plan(check_config_tree(std::move(services), std::move(supervisors), {}));
}

bool has(const config_tree& t, const std::string& name) {
  for (const auto& s : t.services) {
    if (s.name == name) return true;
  }
  return false;
}

}  // namespace

TEST(KeepRunning, ABrokenFileKeepsThePreviousDefinition) {
  plan_node now = running({svc("a"), svc("b")}, {});
  config_errors errors{{"a.toml", 3, 1, "service.exec", "required key is missing"}};
  config_tree fresh = check_config_tree({svc("b")}, {}, errors, {{"a", "its file a.toml has errors"}});
  auto kept = keep_running_definitions(fresh, now);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.at("a"), "kept running with its previous definition: its file a.toml has errors");
  EXPECT_TRUE(has(fresh, "a"));
  EXPECT_EQ(fresh.disabled.count("a"), 0u);
  EXPECT_EQ(fresh.errors.size(), 1u) << "the error is still reported";
}

TEST(KeepRunning, ADeletedFileStillRemovesTheService) {
  plan_node now = running({svc("a"), svc("b")}, {});
  config_tree fresh = check_config_tree({svc("b")}, {}, {});
  EXPECT_TRUE(keep_running_definitions(fresh, now).empty());
  EXPECT_FALSE(has(fresh, "a"));
}

TEST(KeepRunning, DependentsOfABrokenServiceAreKeptToo) {
  plan_node now = running({svc("a"), svc("b", {"a"})}, {});
  config_tree fresh = check_config_tree({svc("b", {"a"})}, {}, {}, {{"a", "its file a.toml has errors"}});
  ASSERT_EQ(fresh.disabled.count("b"), 1u) << "the loader disables b: it requires a broken service";
  auto kept = keep_running_definitions(fresh, now);
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_TRUE(has(fresh, "a"));
  EXPECT_TRUE(has(fresh, "b"));
  EXPECT_TRUE(fresh.disabled.empty());
}

TEST(KeepRunning, ABrokenSupervisorFileKeepsItsPreviousSettingsForItsServices) {
  plan_node now = running({svc("w", {}, "web")}, {sup("web")});
  config_tree fresh = check_config_tree({svc("w", {}, "web")}, {}, {});
  ASSERT_EQ(fresh.disabled.count("w"), 1u);
  auto kept = keep_running_definitions(fresh, now);
  EXPECT_EQ(kept.count("w"), 1u);
  bool web = false;
  for (const auto& s : fresh.supervisors) web = web || s.name == "web";
  EXPECT_TRUE(web);
  plan_node plan = make_supervision_plan(std::move(fresh));
  ASSERT_EQ(plan.children.size(), 1u);
  EXPECT_EQ(plan.children[0].name, "web");
  EXPECT_EQ(plan.children[0].children[0].name, "w");
}

TEST(KeepRunning, ANewServiceThatIsBrokenStaysDisabled) {
  plan_node now = running({svc("a")}, {});
  config_tree fresh = check_config_tree({svc("a")}, {}, {}, {{"n", "its file n.toml has errors"}});
  EXPECT_TRUE(keep_running_definitions(fresh, now).empty());
  EXPECT_EQ(fresh.disabled.count("n"), 1u);
}
