#include "runtime/deps/dependency_graph.hpp"

#include <gtest/gtest.h>

#include "runtime/config/service_config.hpp"

using namespace dynamod;
using ds = dependency_state;

namespace {

struct graph_fixture {
  std::vector<service_config> services;
  service_config& add(const std::string& name, std::vector<std::string> requires_ = {}, std::vector<std::string> after = {},
                      std::vector<std::string> wants = {}, std::vector<std::string> before = {}) {
    service_config s;
    s.name = name;
    s.requires_ = std::move(requires_);
    s.after = std::move(after);
    s.wants = std::move(wants);
    s.before = std::move(before);
    services.push_back(s);
    return services.back();
  }
  dependency_graph build() const {
    std::vector<const service_config*> p;
    for (const auto& s : services) p.push_back(&s);
    return dependency_graph{p};
  }
};

}  // namespace

TEST(DependencyGraph, StartOrderPutsDependenciesFirstAndBreaksTiesByFileOrder) {
  graph_fixture f;
  f.add("app", {"db"}, {"cache"});
  f.add("cache");
  f.add("db", {"network"});
  f.add("network");
  f.add("zz-independent");
  EXPECT_EQ(f.build().start_order(),
            (std::vector<std::string>{"cache", "network", "db", "app", "zz-independent"}));
}

TEST(DependencyGraph, BeforeIsAfterSeenFromTheOtherSide) {
  graph_fixture f;
  f.add("late");
  f.add("early", {}, {}, {}, {"late"});
  auto g = f.build();
  EXPECT_EQ(g.start_order(), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(g.waits_for("late").ordered, std::vector<std::string>{"early"});
}

TEST(DependencyGraph, FrontierIsDynamicNotLevelled) {
  // a <- b <- c, and d <- e: e may start as soon as d is ready, whatever a..c are doing.
  graph_fixture f;
  f.add("a");
  f.add("b", {"a"});
  f.add("c", {"b"});
  f.add("d");
  f.add("e", {"d"});
  auto g = f.build();
  std::vector<std::string> all{"a", "b", "c", "d", "e"};
  std::map<std::string, ds> st{{"a", ds::pending}, {"b", ds::pending}, {"c", ds::pending}, {"d", ds::pending},
                               {"e", ds::pending}};
  EXPECT_EQ(g.frontier(all, st), (std::vector<std::string>{"a", "d"}));
  st["d"] = ds::ready;
  EXPECT_EQ(g.frontier({"b", "c", "e"}, st), std::vector<std::string>{"e"});
  st["a"] = ds::ready;
  EXPECT_EQ(g.frontier({"b", "c"}, st), std::vector<std::string>{"b"});
}

TEST(DependencyGraph, FailedRequirementBlocksWithTheReasonNamed) {
  graph_fixture f;
  f.add("db");
  f.add("app", {"db"});
  auto g = f.build();
  auto d = g.can_start("app", {{"db", ds::failed}});
  EXPECT_EQ(d.what, dependency_graph::verdict::blocked);
  EXPECT_EQ(d.on, "db");
  d = g.can_start("app", {{"db", ds::pending}});
  EXPECT_EQ(d.what, dependency_graph::verdict::wait);
  EXPECT_EQ(d.on, "db");
}

TEST(DependencyGraph, SoftDependenciesOrderButNeverBlock) {
  graph_fixture f;
  f.add("syslog");
  f.add("clock");
  f.add("app", {}, {"clock"}, {"syslog"});
  auto g = f.build();
  EXPECT_EQ(g.can_start("app", {{"syslog", ds::pending}, {"clock", ds::ready}}).what, dependency_graph::verdict::wait);
  EXPECT_EQ(g.can_start("app", {{"syslog", ds::failed}, {"clock", ds::failed}}).what, dependency_graph::verdict::start);
  EXPECT_EQ(g.can_start("app", {}).what, dependency_graph::verdict::start) << "absent soft dependencies are ignored";
}

TEST(DependencyGraph, AFailedOrderingDependencyOfTheSameRestartGroupHoldsBack) {
  // one_for_all / rest_for_one: w3 failed in this round, so the round will be rolled back; w4 (after w3)
  // must not start in it. Outside such a group (one_for_one), after only orders and w4 starts.
  graph_fixture f;
  f.add("w3");
  f.add("w4", {}, {"w3"});
  f.add("app", {"w3"});
  auto g = f.build();
  const std::map<std::string, ds> failed{{"w3", ds::failed}};
  auto d = g.can_start("w4", failed, {"w1", "w2", "w3"});
  EXPECT_EQ(d.what, dependency_graph::verdict::wait);
  EXPECT_EQ(d.on, "w3");
  EXPECT_EQ(g.can_start("w4", failed).what, dependency_graph::verdict::start) << "one_for_one: ordering only";
  EXPECT_EQ(g.can_start("w4", failed, {"other"}).what, dependency_graph::verdict::start);
  EXPECT_EQ(g.can_start("w4", {{"w3", ds::inactive}}, {"w3"}).what, dependency_graph::verdict::start)
      << "stopped on purpose: not a failed round";
  EXPECT_EQ(g.can_start("w4", {{"w3", ds::ready}}, {"w3"}).what, dependency_graph::verdict::start);
  EXPECT_EQ(g.can_start("app", failed, {"w3"}).what, dependency_graph::verdict::blocked)
      << "a failed requirement still blocks";
}

TEST(DependencyGraph, ASiblingLeftFailedByDegradeHoldsNothingBackButStillBlocksItsDependents) {
  // A one_for_all root under give-up = "degrade" leaves w3 down for good: no rollback will come, so w4 (after w3)
  // must not wait for one; a service that requires w3 is blocked.
  graph_fixture f;
  f.add("w3");
  f.add("w4", {}, {"w3"});
  f.add("app", {"w3"});
  auto g = f.build();
  const std::map<std::string, ds> abandoned{{"w3", ds::abandoned}};
  EXPECT_EQ(g.can_start("w4", abandoned, {"w3"}).what, dependency_graph::verdict::start);
  auto d = g.can_start("app", abandoned, {"w3"});
  EXPECT_EQ(d.what, dependency_graph::verdict::blocked);
  EXPECT_EQ(d.on, "w3");
}

TEST(DependencyGraph, CyclesAreFoundAndPrinted) {
  graph_fixture f;
  f.add("a", {"b"});
  f.add("b", {}, {"c"});
  f.add("c", {}, {}, {"a"});
  f.add("d", {"a"});
  f.add("x", {"y"});
  f.add("y", {"x"});
  auto cycles = f.build().cycles();
  ASSERT_EQ(cycles.size(), 2u);
  EXPECT_EQ(format_cycle(cycles[0]), "a -> b -> c -> a");
  EXPECT_EQ(format_cycle(cycles[1]), "x -> y -> x");
}

TEST(DependencyGraph, AcyclicGraphHasNoCycles) {
  graph_fixture f;
  f.add("a");
  f.add("b", {"a"}, {"a"});
  EXPECT_TRUE(f.build().cycles().empty());
}

TEST(DependencyGraph, RequiredByListsDirectDependents) {
  graph_fixture f;
  f.add("db");
  f.add("app", {"db"});
  f.add("report", {"db"});
  f.add("ui", {"app"});
  EXPECT_EQ(f.build().required_by("db"), (std::vector<std::string>{"app", "report"}));
}
