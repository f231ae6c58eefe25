// Every scenario here mirrors a run of real Erlang/OTP 25 in ../shared/otp-oracle/out/<scenario>.txt.
#include "behaviours/supervisor_logic.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace dynamod::behaviours;

namespace {

command start(const std::string& id) { return {command::kind::start, id, {}}; }
command terminate(const std::string& id) { return {command::kind::terminate, id, {}}; }
command exit_cmd() { return {command::kind::exit, {}, {}}; }
using cmds = std::vector<command>;

std::vector<child_spec> workers(std::initializer_list<const char*> ids, restart_type r = restart_type::permanent) {
  std::vector<child_spec> out;
  for (const char* id : ids) out.push_back({id, r, std::nullopt});
  return out;
}

supervisor_logic started(strategy s, intensity_limit l, std::vector<child_spec> children) {
  supervisor_logic sup{s, l, std::move(children)};
  sup.start();
  return sup;
}

// Completes a run of one-at-a-time terminations, checking the order; returns what followed.
cmds finish_terminations(supervisor_logic& sup, cmds pending, const std::vector<std::string>& expected_order) {
  for (const auto& id : expected_order) {
    EXPECT_EQ(pending, cmds{terminate(id)}) << "expected to terminate " << id;
    pending = sup.on_terminated(id);
  }
  return pending;
}

}  // namespace

TEST(SupervisorStart, StartsEveryChildLeftToRight) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, workers({"a", "b", "c"})};
  EXPECT_EQ(sup.start(), (cmds{start("a"), start("b"), start("c")}));
  EXPECT_EQ(sup.state("b"), child_state::running);
}

// s01_one_for_one
TEST(OneForOne, RestartsOnlyTheCrashedChild) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"w1", "w2", "w3"}));
  EXPECT_EQ(sup.on_exit("w2", exit_kind::abnormal, 0), cmds{start("w2")});
  EXPECT_EQ(sup.intensity_entries(), 1u);
  EXPECT_EQ(sup.state("w1"), child_state::running);
  EXPECT_EQ(sup.state("w3"), child_state::running);
}

// s02_one_for_all
TEST(OneForAll, TerminatesOthersInReverseOrderThenRestartsAllInOrder) {
  auto sup = started(strategy::one_for_all, {3, 5}, workers({"w1", "w2", "w3", "w4"}));
  auto out = finish_terminations(sup, sup.on_exit("w2", exit_kind::abnormal, 0), {"w4", "w3", "w1"});
  EXPECT_EQ(out, (cmds{start("w1"), start("w2"), start("w3"), start("w4")}));
  EXPECT_EQ(sup.intensity_entries(), 1u) << "a group restart is one entry (s18)";
}

// s03_rest_for_one
TEST(RestForOne, RestartsCrashedChildAndThoseStartedAfterIt) {
  auto sup = started(strategy::rest_for_one, {3, 5}, workers({"w1", "w2", "w3", "w4"}));
  auto out = finish_terminations(sup, sup.on_exit("w2", exit_kind::abnormal, 0), {"w4", "w3"});
  EXPECT_EQ(out, (cmds{start("w2"), start("w3"), start("w4")}));
  EXPECT_EQ(sup.state("w1"), child_state::running);
  EXPECT_EQ(sup.intensity_entries(), 1u);
}

// s19b_rest_for_one_transient_normal
TEST(RestForOne, TransientChildExitingNormallyChangesNothing) {
  std::vector<child_spec> c{{"a", restart_type::permanent, {}}, {"t", restart_type::transient, {}},
                            {"z", restart_type::permanent, {}}};
  auto sup = started(strategy::rest_for_one, {3, 5}, c);
  EXPECT_TRUE(sup.on_exit("t", exit_kind::normal, 0).empty());
  EXPECT_EQ(sup.state("z"), child_state::running);
  EXPECT_EQ(sup.intensity_entries(), 0u);
}

// s04_simple_one_for_one
TEST(SimpleOneForOne, RestartsOnlyTheCrashedChildAndTerminatesAllAtOnce) {
  auto sup = started(strategy::simple_one_for_one, {3, 5}, workers({"d1", "d2", "d3", "d4", "d5"}));
  EXPECT_EQ(sup.on_exit("d3", exit_kind::abnormal, 0), cmds{start("d3")});
  auto out = sup.shutdown();
  EXPECT_EQ(out.size(), 5u) << "every child is told at the same instant";
  for (const auto& id : {"d1", "d2", "d3", "d4"}) EXPECT_TRUE(sup.on_terminated(id).empty());
  EXPECT_EQ(sup.on_terminated("d5"), cmds{exit_cmd()});
}

// s26_sofo_intensity
TEST(SimpleOneForOne, SharesOneIntensityCounter) {
  auto sup = started(strategy::simple_one_for_one, {2, 5}, workers({"d1", "d2", "d3"}));
  EXPECT_EQ(sup.on_exit("d1", exit_kind::abnormal, 0), cmds{start("d1")});
  EXPECT_EQ(sup.on_exit("d2", exit_kind::abnormal, 0), cmds{start("d2")});
  auto out = sup.on_exit("d3", exit_kind::abnormal, 0);
  EXPECT_EQ(out.size(), 2u) << "the remaining two are terminated at once";
  sup.on_terminated("d1");
  EXPECT_EQ(sup.on_terminated("d2"), cmds{exit_cmd()});
}

// s05_restart_types / s21
TEST(RestartTypes, PermanentRestartsAfterEveryExitKind) {
  for (auto kind : {exit_kind::normal, exit_kind::shutdown, exit_kind::abnormal}) {
    auto sup = started(strategy::one_for_one, {10, 5}, workers({"p"}));
    EXPECT_EQ(sup.on_exit("p", kind, 0), cmds{start("p")});
    EXPECT_EQ(sup.intensity_entries(), 1u);
  }
}

TEST(RestartTypes, TransientRestartsOnlyAfterAbnormalExit) {
  auto sup = started(strategy::one_for_one, {10, 5}, workers({"t"}, restart_type::transient));
  EXPECT_TRUE(sup.on_exit("t", exit_kind::normal, 0).empty());
  EXPECT_EQ(sup.state("t"), child_state::stopped) << "spec kept, pid undefined";
  EXPECT_EQ(sup.start_child("t"), cmds{start("t")});
  EXPECT_TRUE(sup.on_exit("t", exit_kind::shutdown, 0).empty());
  sup.start_child("t");
  EXPECT_EQ(sup.on_exit("t", exit_kind::abnormal, 0), cmds{start("t")});
  EXPECT_EQ(sup.intensity_entries(), 1u) << "only the restart counts (s21)";
}

TEST(RestartTypes, TemporaryIsNeverRestartedAndItsSpecIsRemoved) {
  auto sup = started(strategy::one_for_one, {10, 5}, workers({"x"}, restart_type::temporary));
  EXPECT_TRUE(sup.on_exit("x", exit_kind::abnormal, 0).empty());
  EXPECT_EQ(sup.state("x"), child_state::removed);
  EXPECT_TRUE(sup.children().empty());
  EXPECT_TRUE(sup.start_child("x").empty()) << "restart_child -> not_found";
  EXPECT_EQ(sup.intensity_entries(), 0u);
}

// s06_intensity_boundary
TEST(Intensity, MaxRRestartsAreAllowedAndTheNextGivesUpInReverseOrder) {
  auto sup = started(strategy::one_for_one, {3, 2}, workers({"w1", "w2", "w3"}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sup.on_exit("w2", exit_kind::abnormal, 10), cmds{start("w2")});
  auto out = sup.on_exit("w2", exit_kind::abnormal, 10);
  out = finish_terminations(sup, out, {"w3", "w1"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].what, command::kind::exit);
  EXPECT_NE(out[0].note.find("max restart intensity"), std::string::npos);
  EXPECT_EQ(sup.state("w2"), child_state::stopped) << "the child that triggered it is not restarted";
  EXPECT_TRUE(sup.exiting());
}

// s07_maxr0
TEST(Intensity, MaxRZeroGivesUpOnTheFirstCrash) {
  auto sup = started(strategy::one_for_one, {0, 5}, workers({"w1", "w2", "w3"}));
  auto out = finish_terminations(sup, sup.on_exit("w2", exit_kind::abnormal, 0), {"w3", "w1"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// s06b_intensity_spread: MaxR=3, MaxT=2, a crash every 0.8 s dies at the 4th (t=2.4 s).
TEST(Intensity, WindowIsInWholeSecondsSoSpreadCrashesStillCount) {
  auto sup = started(strategy::one_for_one, {3, 2}, workers({"w"}));
  const double times[] = {0.0, 0.8, 1.6};
  for (double t : times) EXPECT_EQ(sup.on_exit("w", exit_kind::abnormal, static_cast<int64_t>(t)), cmds{start("w")});
  EXPECT_EQ(sup.on_exit("w", exit_kind::abnormal, static_cast<int64_t>(2.4)), cmds{exit_cmd()});
}

// s08_window_granularity with MaxR=1: the window is inclusive, in whole monotonic seconds.
TEST(Intensity, WindowEdgesFollowWholeSecondTicks) {
  struct gap { int64_t first, second; int period; bool dies; };
  const gap cases[] = {
      {10, 11, 1, true},   // P=1, gap 1.90 s inside ticks 10 and 11: 11-10 <= 1 -> dies
      {10, 12, 1, false},  // P=1, gap 1.15 s straddling two ticks: 12-10 > 1 -> survives
      {10, 12, 2, true},   // P=2, gap 2.90 s: dies
      {10, 13, 2, false},  // P=2, gap 3.05 s: survives
  };
  for (const auto& c : cases) {
    auto sup = started(strategy::one_for_one, {1, c.period}, workers({"w"}));
    EXPECT_EQ(sup.on_exit("w", exit_kind::abnormal, c.first), cmds{start("w")});
    const bool died = sup.on_exit("w", exit_kind::abnormal, c.second) == cmds{exit_cmd()};
    EXPECT_EQ(died, c.dies) << "P=" << c.period << " ticks " << c.first << " -> " << c.second;
  }
}

// s06c_intensity_is_per_supervisor
TEST(Intensity, OneCounterForAllChildren) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"w1", "w2", "w3"}));
  sup.on_exit("w1", exit_kind::abnormal, 0);
  sup.on_exit("w2", exit_kind::abnormal, 0);
  sup.on_exit("w3", exit_kind::abnormal, 0);
  auto out = sup.on_exit("w1", exit_kind::abnormal, 0);
  EXPECT_EQ(out, cmds{terminate("w3")});
}

TEST(Intensity, AServicesOwnLimitGivesUpToo) {
  std::vector<child_spec> c{{"flaky", restart_type::permanent, intensity_limit{2, 60}}, {"other", restart_type::permanent, {}}};
  auto sup = started(strategy::one_for_one, {100, 300}, c);
  EXPECT_EQ(sup.on_exit("flaky", exit_kind::abnormal, 0), cmds{start("flaky")});
  EXPECT_EQ(sup.on_exit("flaky", exit_kind::abnormal, 30), cmds{start("flaky")});
  auto out = sup.on_exit("flaky", exit_kind::abnormal, 59);
  out = finish_terminations(sup, out, {"other"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].note.find("flaky exceeded its own max-restarts"), std::string::npos) << out[0].note;
}

TEST(Intensity, EntriesOlderThanThePeriodAreForgotten) {
  auto sup = started(strategy::one_for_one, {1, 5}, workers({"w"}));
  EXPECT_EQ(sup.on_exit("w", exit_kind::abnormal, 100), cmds{start("w")});
  EXPECT_EQ(sup.on_exit("w", exit_kind::abnormal, 106), cmds{start("w")});
  EXPECT_EQ(sup.intensity_entries(), 1u);
}

// s18_one_for_all_counts_once
TEST(OneForAll, GroupRestartCountsOnceAndTheNextCrashGivesUp) {
  auto sup = started(strategy::one_for_all, {1, 5}, workers({"w1", "w2", "w3", "w4"}));
  finish_terminations(sup, sup.on_exit("w3", exit_kind::abnormal, 0), {"w4", "w2", "w1"});
  auto out = finish_terminations(sup, sup.on_exit("w1", exit_kind::abnormal, 0), {"w4", "w3", "w2"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// s19_one_for_all_temporary_sibling
TEST(OneForAll, TemporarySiblingsAreTerminatedAndDropped) {
  std::vector<child_spec> c{{"perm", restart_type::permanent, {}}, {"temp", restart_type::temporary, {}},
                            {"trans", restart_type::transient, {}}, {"crasher", restart_type::permanent, {}}};
  auto sup = started(strategy::one_for_all, {3, 5}, c);
  auto out = finish_terminations(sup, sup.on_exit("crasher", exit_kind::abnormal, 0), {"trans", "temp", "perm"});
  EXPECT_EQ(out, (cmds{start("perm"), start("trans"), start("crasher")}));
  EXPECT_EQ(sup.state("temp"), child_state::removed);
}

// s13d_one_for_all_restart_fail_midgroup: a child failing to start in the group restart rolls the group back.
TEST(OneForAll, FailedStartDuringGroupRestartRollsBackAndRetriesTheGroup) {
  auto sup = started(strategy::one_for_all, {5, 5}, workers({"w1", "w2", "w3", "w4"}));
  finish_terminations(sup, sup.on_exit("w1", exit_kind::abnormal, 0), {"w4", "w3", "w2"});
  // w3's new incarnation fails to start: everything restarted so far is terminated again, in reverse.
  auto out = finish_terminations(sup, sup.on_exit("w3", exit_kind::abnormal, 0), {"w4", "w2", "w1"});
  EXPECT_EQ(out, (cmds{start("w1"), start("w2"), start("w3"), start("w4")}));
  EXPECT_EQ(sup.intensity_entries(), 2u) << "the retry is another entry";
}

// s13b_restart_start_always_fails: failed starts are immediate retries, each counted, until give-up.
TEST(OneForOne, AStartThatAlwaysFailsIsRetriedUntilTheIntensityIsExceeded) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"w1", "w2", "w3"}));
  int starts = 0;
  cmds out = sup.on_exit("w2", exit_kind::abnormal, 0);
  while (out == cmds{start("w2")}) {
    ++starts;
    out = sup.on_exit("w2", exit_kind::abnormal, 0);
  }
  EXPECT_EQ(starts, 3);
  out = finish_terminations(sup, out, {"w3", "w1"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// s10_giveup_order
TEST(GiveUp, RemainingChildrenAreTerminatedLastStartedFirst) {
  auto sup = started(strategy::one_for_one, {1, 5}, workers({"w1", "w2", "w3", "w4"}));
  sup.on_exit("w2", exit_kind::abnormal, 0);
  auto out = finish_terminations(sup, sup.on_exit("w2", exit_kind::abnormal, 0), {"w4", "w3", "w1"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// s15_sup_shutdown_order
TEST(Shutdown, ChildrenStopOneAtATimeInReverseStartOrder) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"a", "b", "c", "d"}));
  auto out = finish_terminations(sup, sup.shutdown(), {"d", "c", "b", "a"});
  EXPECT_EQ(out, cmds{exit_cmd()});
  EXPECT_EQ(sup.state("a"), child_state::stopped);
}

TEST(Shutdown, StoppedChildrenAreSkipped) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"a", "b", "c"}));
  finish_terminations(sup, sup.terminate_child("b"), {"b"});
  auto out = finish_terminations(sup, sup.shutdown(), {"c", "a"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

TEST(Shutdown, DuringAGroupRestartEndsInTerminationNotRestart) {
  auto sup = started(strategy::one_for_all, {3, 5}, workers({"w1", "w2", "w3"}));
  auto out = sup.on_exit("w1", exit_kind::abnormal, 0);
  EXPECT_EQ(out, cmds{terminate("w3")});
  EXPECT_TRUE(sup.shutdown().empty());
  out = sup.on_terminated("w3");
  EXPECT_EQ(out, cmds{terminate("w2")});
  out = sup.on_terminated("w2");
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// s22_child_dies_during_group_shutdown
TEST(OneForAll, ChildDyingWhileTheGroupIsTerminatedIsSkippedAndRestartedWithIt) {
  auto sup = started(strategy::one_for_all, {3, 5}, workers({"w1", "w2", "w3", "w4"}));
  EXPECT_EQ(sup.on_exit("w4", exit_kind::abnormal, 0), cmds{terminate("w3")});
  EXPECT_TRUE(sup.on_exit("w1", exit_kind::abnormal, 0).empty()) << "absorbed: no second restart";
  EXPECT_EQ(sup.on_terminated("w3"), cmds{terminate("w2")});
  EXPECT_EQ(sup.on_terminated("w2"), (cmds{start("w1"), start("w2"), start("w3"), start("w4")}));
  EXPECT_EQ(sup.intensity_entries(), 1u);
}

TEST(RestForOne, ExitOfAnEarlierChildDuringTheRunIsHandledAfterIt) {
  auto sup = started(strategy::rest_for_one, {5, 5}, workers({"w1", "w2", "w3"}));
  EXPECT_EQ(sup.on_exit("w2", exit_kind::abnormal, 0), cmds{terminate("w3")});
  EXPECT_TRUE(sup.on_exit("w1", exit_kind::abnormal, 0).empty()) << "deferred, as OTP's mailbox would";
  // First the run completes (w2, w3 back), then w1's exit restarts w1 and everything after it.
  EXPECT_EQ(sup.on_terminated("w3"), (cmds{start("w2"), start("w3"), terminate("w3")}));
  auto out = finish_terminations(sup, cmds{terminate("w3")}, {"w3", "w2"});
  EXPECT_EQ(out, (cmds{start("w1"), start("w2"), start("w3")}));
  EXPECT_EQ(sup.intensity_entries(), 2u);
}

// s16_child_api_permanent
TEST(ChildApi, TerminateChildIsNotRestartedAndNotCounted) {
  auto sup = started(strategy::one_for_one, {0, 5}, workers({"a", "b"}));
  EXPECT_EQ(finish_terminations(sup, sup.terminate_child("a"), {"a"}), cmds{});
  EXPECT_EQ(sup.state("a"), child_state::stopped);
  EXPECT_TRUE(sup.terminate_child("a").empty()) << "idempotent";
  EXPECT_EQ(sup.start_child("a"), cmds{start("a")});
  EXPECT_TRUE(sup.start_child("a").empty()) << "already started";
  EXPECT_FALSE(sup.exiting()) << "MaxR=0 and still alive: none of this counted";
}

// s16b_child_api_temporary
TEST(ChildApi, TerminatingATemporaryChildRemovesIt) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"a"}, restart_type::temporary));
  finish_terminations(sup, sup.terminate_child("a"), {"a"});
  EXPECT_EQ(sup.state("a"), child_state::removed);
}

TEST(ChildApi, RequestsDuringARunWaitForIt) {
  auto sup = started(strategy::one_for_all, {3, 5}, workers({"a", "b"}));
  EXPECT_EQ(sup.on_exit("a", exit_kind::abnormal, 0), cmds{terminate("b")});
  EXPECT_TRUE(sup.terminate_child("a").empty());
  auto out = sup.on_terminated("b");
  EXPECT_EQ(out, (cmds{start("a"), start("b"), terminate("a")}));
}

// Multi-level escalation (s09, s09b, s09c): a supervisor that gives up exits with `shutdown`; its parent
// treats that like any child exit.
namespace {
struct two_levels {
  supervisor_logic root;
  supervisor_logic mid;
  two_levels(restart_type mid_type, intensity_limit root_limit, intensity_limit mid_limit)
      : root(started(strategy::one_for_one, root_limit, {{"r1", restart_type::permanent, {}}, {"mid", mid_type, {}},
                                                         {"r2", restart_type::permanent, {}}})),
        mid(started(strategy::one_for_one, mid_limit, workers({"w1", "w2"}))) {}
  // Crash w1 in mid; if mid gives up, finish its terminations and report its exit to root.
  cmds crash_w1(int64_t now) {
    auto out = mid.on_exit("w1", exit_kind::abnormal, now);
    if (out == cmds{start("w1")}) return {};
    out = finish_terminations(mid, out, {"w2"});
    EXPECT_EQ(out, cmds{exit_cmd()});
    return root.on_exit("mid", exit_kind::shutdown, now);
  }
};
}  // namespace

TEST(Escalation, PermanentChildSupervisorIsRestartedWithFreshChildren) {
  two_levels t{restart_type::permanent, {3, 5}, {1, 5}};
  EXPECT_TRUE(t.crash_w1(0).empty());
  EXPECT_EQ(t.crash_w1(0), cmds{start("mid")}) << "root restarts mid (and mid starts fresh w1, w2)";
  EXPECT_EQ(t.root.intensity_entries(), 1u);
  EXPECT_EQ(t.root.state("r1"), child_state::running);
  EXPECT_EQ(t.root.state("r2"), child_state::running);
}

TEST(Escalation, TransientChildSupervisorIsNotRestartedAndNothingCounts) {
  two_levels t{restart_type::transient, {3, 5}, {1, 5}};
  t.crash_w1(0);
  EXPECT_TRUE(t.crash_w1(0).empty());
  EXPECT_EQ(t.root.state("mid"), child_state::stopped);
  EXPECT_EQ(t.root.intensity_entries(), 0u);
}

TEST(Escalation, ReachesTheRootWhichGivesUpInTurn) {
  two_levels t{restart_type::permanent, {1, 5}, {0, 5}};
  EXPECT_EQ(t.crash_w1(0), cmds{start("mid")});
  t.mid = started(strategy::one_for_one, {0, 5}, workers({"w1", "w2"}));  // the fresh incarnation of mid
  auto out = t.crash_w1(1);
  out = finish_terminations(t.root, out, {"r2", "r1"});
  EXPECT_EQ(out, cmds{exit_cmd()});
}

// dynamod's termination by dependencies: independent children stop together, dependents first.
namespace {
std::vector<child_spec> with_deps() {
  // db <- app <- web; cache and metrics are independent.
  return {{"db", restart_type::permanent, {}, {}},
          {"cache", restart_type::permanent, {}, {}},
          {"app", restart_type::permanent, {}, {"db", "cache"}},
          {"web", restart_type::permanent, {}, {"app"}},
          {"metrics", restart_type::permanent, {}, {}}};
}
}  // namespace

TEST(TerminationByDependencies, IndependentChildrenStopTogetherDependentsFirst) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, with_deps(), termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.shutdown(), (cmds{terminate("metrics"), terminate("web")}));
  EXPECT_TRUE(sup.on_terminated("metrics").empty());
  EXPECT_EQ(sup.on_terminated("web"), cmds{terminate("app")});
  EXPECT_EQ(sup.on_terminated("app"), (cmds{terminate("cache"), terminate("db")}));
  EXPECT_TRUE(sup.on_terminated("db").empty());
  EXPECT_EQ(sup.on_terminated("cache"), cmds{exit_cmd()});
}

TEST(TerminationByDependencies, WithoutDependenciesEverythingStopsAtOnce) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, workers({"a", "b", "c"}), termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.shutdown(), (cmds{terminate("c"), terminate("b"), terminate("a")}));
}

TEST(TerminationByDependencies, GroupRestartRespectsDependenciesToo) {
  supervisor_logic sup{strategy::one_for_all, {3, 5}, with_deps(), termination_order::by_dependencies};
  sup.start();
  auto out = sup.on_exit("cache", exit_kind::abnormal, 0);
  EXPECT_EQ(out, (cmds{terminate("metrics"), terminate("web")}));
  sup.on_terminated("metrics");
  EXPECT_EQ(sup.on_terminated("web"), cmds{terminate("app")});
  EXPECT_EQ(sup.on_terminated("app"), cmds{terminate("db")});
  EXPECT_EQ(sup.on_terminated("db"),
            (cmds{start("db"), start("cache"), start("app"), start("web"), start("metrics")}));
  EXPECT_EQ(sup.intensity_entries(), 1u);
}

TEST(TerminationByDependencies, MutualNeedsFallBackToReverseOrder) {
  std::vector<child_spec> c{{"x", restart_type::permanent, {}, {"y"}}, {"y", restart_type::permanent, {}, {"x"}}};
  supervisor_logic sup{strategy::one_for_one, {3, 5}, c, termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.shutdown(), cmds{terminate("y")});
  EXPECT_EQ(sup.on_terminated("y"), cmds{terminate("x")});
}

TEST(TerminationByDependencies, AChildStopsOnlyAfterEverythingThatDependsOnItEvenThroughADeadSibling) {
  // w1 <- w2 <- w3 <- w4 (each needs the one before); w2 dies: the group restart stops w4, then w3, and only
  // then w1, which w3 depends on through w2 (w2 being dead does not cut the chain).
  std::vector<child_spec> c{{"w1", restart_type::permanent, {}, {}},
                            {"w2", restart_type::permanent, {}, {"w1"}},
                            {"w3", restart_type::permanent, {}, {"w2"}},
                            {"w4", restart_type::permanent, {}, {"w3"}}};
  supervisor_logic sup{strategy::one_for_all, {3, 5}, c, termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.on_exit("w2", exit_kind::abnormal, 0), cmds{terminate("w4")});
  EXPECT_EQ(sup.on_terminated("w4"), cmds{terminate("w3")});
  EXPECT_EQ(sup.on_terminated("w3"), cmds{terminate("w1")});
  EXPECT_EQ(sup.on_terminated("w1"), (cmds{start("w1"), start("w2"), start("w3"), start("w4")}));
}

TEST(TerminationByDependencies, AShutdownWithADeadMiddleSiblingKeepsTheTransitiveOrder) {
  // The operator stopped b (a <- b <- c); at shutdown c still stops before a.
  std::vector<child_spec> c{{"a", restart_type::permanent, {}, {}},
                            {"b", restart_type::permanent, {}, {"a"}},
                            {"c", restart_type::permanent, {}, {"b"}},
                            {"x", restart_type::permanent, {}, {}}};
  supervisor_logic sup{strategy::one_for_one, {3, 5}, c, termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.terminate_child("b"), cmds{terminate("b")}) << "an operator's stop is not ordered";
  EXPECT_TRUE(sup.on_terminated("b").empty());
  EXPECT_EQ(sup.shutdown(), (cmds{terminate("x"), terminate("c")})) << "a waits for c, although b is stopped";
  EXPECT_TRUE(sup.on_terminated("x").empty());
  EXPECT_EQ(sup.on_terminated("c"), cmds{terminate("a")});
  EXPECT_EQ(sup.on_terminated("a"), cmds{exit_cmd()});
}

// Which siblings' failure rolls a child back with them (the dependency tracker holds a child of a group
// back while one of these that it is ordered after has failed in the round).
TEST(RolledBackBy, OneForAllEveryOtherNonTemporarySibling) {
  std::vector<child_spec> c{{"a", restart_type::permanent, {}, {}},
                            {"b", restart_type::transient, {}, {}},
                            {"t", restart_type::temporary, {}, {}},
                            {"c", restart_type::permanent, {}, {}}};
  supervisor_logic sup{strategy::one_for_all, {3, 5}, c};
  EXPECT_EQ(sup.rolled_back_by("b"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(sup.rolled_back_by("t"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(sup.rolled_back_by("nobody").empty());
}

TEST(RolledBackBy, RestForOneTheNonTemporarySiblingsStartedBefore) {
  std::vector<child_spec> c{{"a", restart_type::permanent, {}, {}},
                            {"t", restart_type::temporary, {}, {}},
                            {"b", restart_type::permanent, {}, {}},
                            {"c", restart_type::permanent, {}, {}}};
  supervisor_logic sup{strategy::rest_for_one, {3, 5}, c};
  EXPECT_EQ(sup.rolled_back_by("c"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(sup.rolled_back_by("a").empty());
}

TEST(RolledBackBy, OneForOneNobody) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, workers({"a", "b"})};
  EXPECT_TRUE(sup.rolled_back_by("b").empty());
}

// OTP s16: children added later go to the end of the start order; deleting needs the child stopped.
TEST(ChildApi, AddedChildrenGoToTheEndAndDeletionNeedsAStoppedChild) {
  auto sup = started(strategy::one_for_one, {3, 5}, workers({"a", "b"}));
  EXPECT_TRUE(sup.add_child({"c", restart_type::permanent, {}, {}}));
  EXPECT_FALSE(sup.add_child({"c", restart_type::permanent, {}, {}})) << "already present";
  EXPECT_EQ(sup.start_child("c"), cmds{start("c")});
  EXPECT_EQ(sup.children(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(sup.delete_child("c")) << "running";
  finish_terminations(sup, sup.terminate_child("c"), {"c"});
  EXPECT_TRUE(sup.delete_child("c"));
  EXPECT_EQ(sup.state("c"), child_state::removed);
  EXPECT_EQ(finish_terminations(sup, sup.shutdown(), {"b", "a"}), cmds{exit_cmd()});
}

TEST(ChildApi, ReplacingAStoppedChildKeepsItsPlace) {
  auto sup = started(strategy::rest_for_one, {3, 5}, workers({"a", "b", "c"}));
  finish_terminations(sup, sup.terminate_child("b"), {"b"});
  EXPECT_TRUE(sup.replace_child({"b", restart_type::transient, {}, {}}));
  EXPECT_EQ(sup.start_child("b"), cmds{start("b")});
  EXPECT_EQ(sup.children(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(sup.on_exit("b", exit_kind::normal, 0).empty()) << "the new spec (transient) applies";
}

TEST(Shutdown, AChildThatDiedDuringAnEarlierStopIsSkippedNotWaitedFor) {
  // The operator stops a; while a is still stopping, b crashes (its exit waits behind a's stop) and the
  // system shutdown comes. b is already gone: the shutdown must not wait for b to answer a terminate.
  auto sup = started(strategy::one_for_one, {10, 60}, workers({"a", "b", "c"}));
  EXPECT_EQ(sup.terminate_child("a"), cmds{terminate("a")});
  EXPECT_EQ(sup.on_exit("b", exit_kind::abnormal, 0), cmds{});
  EXPECT_EQ(sup.shutdown(), cmds{});
  auto out = sup.on_terminated("a");
  EXPECT_EQ(out, cmds{terminate("c")}) << "b is skipped; a is already stopped";
  EXPECT_EQ(sup.on_terminated("c"), cmds{exit_cmd()});
}

TEST(Reload, ChangedDependenciesOrderTheNextShutdown) {
  // b did not need a at first; after a reload it does, so the shutdown stops b before a.
  std::vector<child_spec> specs{{"a", restart_type::permanent, std::nullopt, {}}, {"b", restart_type::permanent, std::nullopt, {}}};
  supervisor_logic sup{strategy::one_for_one, {3, 5}, specs, termination_order::by_dependencies};
  sup.start();
  ASSERT_TRUE(sup.set_dependencies("b", {"a"}));
  EXPECT_EQ(sup.shutdown(), cmds{terminate("b")});
  EXPECT_EQ(sup.on_terminated("b"), cmds{terminate("a")});
  EXPECT_EQ(sup.on_terminated("a"), cmds{exit_cmd()});
  EXPECT_FALSE(sup.set_dependencies("nobody", {}));
}

TEST(Reload, AChildRemovedWhileItsGroupRestartsIsNotStartedAgain) {
  // one_for_all: c crashes, the group is being restarted (b is stopping); the reload removes b meanwhile.
  auto sup = started(strategy::one_for_all, {10, 60}, workers({"a", "b", "c"}));
  auto out = sup.on_exit("c", exit_kind::abnormal, 0);
  ASSERT_FALSE(out.empty());
  EXPECT_TRUE(sup.retire_child("b"));
  // Finish the run: whatever is terminated, b must not be among the starts.
  for (int guard = 0; guard < 10 && !out.empty(); ++guard) {
    cmds next;
    for (const auto& cmd : out) {
      EXPECT_FALSE(cmd.what == command::kind::start && cmd.child == "b") << "b was removed from the configuration";
      if (cmd.what == command::kind::terminate) {
        auto more = sup.on_terminated(cmd.child);
        next.insert(next.end(), more.begin(), more.end());
      }
    }
    out = next;
  }
  EXPECT_EQ(sup.state("b"), child_state::removed);
  EXPECT_EQ(sup.state("a"), child_state::running);
  EXPECT_EQ(sup.state("c"), child_state::running);
  EXPECT_TRUE(sup.delete_child("b")) << "deleting a removed child is fine";
}

TEST(Reload, ATemporaryChildThatEndedCanBeDeleted) {
  auto sup = started(strategy::one_for_one, {10, 60}, workers({"t"}, restart_type::temporary));
  EXPECT_EQ(sup.on_exit("t", exit_kind::normal, 0), cmds{});
  EXPECT_EQ(sup.state("t"), child_state::removed);
  EXPECT_TRUE(sup.delete_child("t"));
}

// dynamod's give_up_mode::degrade (the root of an init): what would exceed a limit stays down as failed.
namespace {
command fail(const std::string& id) { return {command::kind::fail, id, {}}; }

supervisor_logic degrading(strategy s, intensity_limit l, std::vector<child_spec> children) {
  supervisor_logic sup{s, l, std::move(children), termination_order::by_dependencies, give_up_mode::degrade};
  sup.start();
  return sup;
}
}  // namespace

TEST(Degrade, AChildExceedingItsOwnLimitStaysFailedAndTheRestRunsOn) {
  std::vector<child_spec> c{{"ghost", restart_type::permanent, intensity_limit{2, 60}},
                            {"other", restart_type::permanent, {}}};
  auto sup = degrading(strategy::one_for_one, {10, 300}, c);
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 0), cmds{start("ghost")});
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 1), cmds{start("ghost")});
  auto out = sup.on_exit("ghost", exit_kind::abnormal, 2);
  ASSERT_EQ(out, cmds{fail("ghost")}) << "nothing terminated, no exit";
  EXPECT_EQ(out[0].note, "exceeded its max-restarts (2 in 60s)");
  EXPECT_EQ(sup.state("ghost"), child_state::failed);
  EXPECT_EQ(sup.state("other"), child_state::running);
  EXPECT_FALSE(sup.exiting());
  EXPECT_EQ(sup.intensity_entries(), 2u) << "the restart that was not made is not counted";
  // It stays down: a late exit of its last incarnation changes nothing, and others restart as usual.
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 3), cmds{});
  EXPECT_EQ(sup.on_exit("other", exit_kind::abnormal, 3), cmds{start("other")});
  EXPECT_EQ(sup.state("ghost"), child_state::failed);
}

TEST(Degrade, ReachingTheSupervisorsIntensityFailsThatChildAndLaterOnesAlike) {
  auto sup = degrading(strategy::one_for_one, {2, 60}, workers({"a", "b", "c"}));
  EXPECT_EQ(sup.on_exit("a", exit_kind::abnormal, 0), cmds{start("a")});
  EXPECT_EQ(sup.on_exit("a", exit_kind::abnormal, 1), cmds{start("a")});
  auto out = sup.on_exit("a", exit_kind::abnormal, 2);
  ASSERT_EQ(out, cmds{fail("a")});
  EXPECT_EQ(out[0].note, "its supervisor reached max restart intensity (2 in 60s)");
  // Inside the same window the next restart-eligible exit of another child fails it too ...
  EXPECT_EQ(sup.on_exit("b", exit_kind::abnormal, 30), cmds{fail("b")});
  EXPECT_EQ(sup.state("c"), child_state::running);
  // ... and once the window has passed, restarts are allowed again.
  EXPECT_EQ(sup.on_exit("c", exit_kind::abnormal, 62), cmds{start("c")});
}

TEST(Degrade, StartChildRetriesAFailedChildWithAFreshHistoryOfItsOwn) {
  std::vector<child_spec> c{{"ghost", restart_type::permanent, intensity_limit{1, 60}}};
  auto sup = degrading(strategy::one_for_one, {10, 300}, c);
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 0), cmds{start("ghost")});
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 1), cmds{fail("ghost")});
  EXPECT_EQ(sup.start_child("ghost"), cmds{start("ghost")});
  EXPECT_EQ(sup.state("ghost"), child_state::running);
  // Its own limit counts from zero again: one restart is allowed before it fails once more.
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 2), cmds{start("ghost")});
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 3), cmds{fail("ghost")});
}

TEST(Degrade, AGroupRestartLeavesAFailedChildDown) {
  std::vector<child_spec> c{{"a", restart_type::permanent, {}},
                            {"ghost", restart_type::permanent, intensity_limit{0, 60}},
                            {"b", restart_type::permanent, {}}};
  auto sup = degrading(strategy::one_for_all, {10, 300}, c);
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 0), cmds{fail("ghost")}) << "no group restart for it";
  EXPECT_EQ(sup.state("a"), child_state::running);
  auto out = sup.on_exit("a", exit_kind::abnormal, 1);
  EXPECT_EQ(out, cmds{terminate("b")});
  EXPECT_EQ(sup.on_terminated("b"), (cmds{start("a"), start("b")})) << "ghost is not started with the group";
  EXPECT_EQ(sup.state("ghost"), child_state::failed);
}

TEST(Degrade, AFailedChildCanBeReplacedAndDeletedAndShutdownSkipsIt) {
  std::vector<child_spec> c{{"ghost", restart_type::permanent, intensity_limit{0, 60}},
                            {"other", restart_type::permanent, {}}};
  auto sup = degrading(strategy::one_for_one, {10, 300}, c);
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::normal, 0), cmds{fail("ghost")}) << "a permanent child's clean exit too";
  EXPECT_TRUE(sup.replace_child({"ghost", restart_type::permanent, intensity_limit{3, 60}}));
  EXPECT_EQ(sup.state("ghost"), child_state::failed) << "a new definition does not start it";
  EXPECT_EQ(sup.shutdown(), cmds{terminate("other")});
  EXPECT_EQ(sup.on_terminated("other"), cmds{exit_cmd()});
  auto sup2 = degrading(strategy::one_for_one, {10, 300}, c);
  sup2.on_exit("ghost", exit_kind::abnormal, 0);
  EXPECT_TRUE(sup2.delete_child("ghost"));
  EXPECT_EQ(sup2.children(), std::vector<std::string>{"other"});
}

TEST(Degrade, EscalateIsStillOtpForSubSupervisors) {
  std::vector<child_spec> c{{"ghost", restart_type::permanent, intensity_limit{0, 60}},
                            {"other", restart_type::permanent, {}}};
  supervisor_logic sup{strategy::one_for_one, {10, 300}, c, termination_order::by_dependencies};
  sup.start();
  EXPECT_EQ(sup.mode(), give_up_mode::escalate);
  EXPECT_EQ(sup.on_exit("ghost", exit_kind::abnormal, 0), cmds{terminate("other")});
  EXPECT_EQ(sup.on_terminated("other"), cmds{exit_cmd()});
}

// Ten thousand children, one of which requires all the others (an "all up" oneshot), stopped together: it goes
// first, then the rest at once, each termination answered in an arbitrary order and exactly once, and the
// supervisor exits after the last. (Membership of a run is a hash lookup: this many would be quadratic else.)
TEST(TerminationByDependencies, TenThousandChildrenStopOnceEachInAnyOrder) {
  constexpr int kChildren = 10000;
  std::vector<child_spec> children;
  std::vector<std::string> all;
  for (int i = 0; i < kChildren; ++i) {
    all.push_back("s" + std::to_string(i));
    children.push_back({all.back(), restart_type::permanent, std::nullopt, {}});
  }
  children.push_back({"all-up", restart_type::permanent, std::nullopt, all});
  supervisor_logic sup{strategy::one_for_one, {3, 5}, std::move(children), termination_order::by_dependencies};
  sup.start();
  ASSERT_EQ(sup.shutdown(), cmds{terminate("all-up")});
  const cmds wave = sup.on_terminated("all-up");
  ASSERT_EQ(wave.size(), static_cast<size_t>(kChildren));
  std::set<std::string> told;
  for (const auto& c : wave) {
    EXPECT_EQ(c.what, command::kind::terminate);
    told.insert(c.child);
  }
  EXPECT_EQ(told.size(), static_cast<size_t>(kChildren));
  // Answers in an order of their own (every 7th first, then the rest), one of them twice.
  std::vector<std::string> order;
  for (int i = 0; i < kChildren; i += 7) order.push_back(all[i]);
  for (int i = 0; i < kChildren; ++i) {
    if (i % 7 != 0) order.push_back(all[i]);
  }
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    EXPECT_TRUE(sup.on_terminated(order[i]).empty()) << order[i];
    if (i == 10) EXPECT_TRUE(sup.on_terminated(order[i]).empty()) << "a second answer changes nothing";
  }
  EXPECT_EQ(sup.on_terminated(order.back()), cmds{exit_cmd()});
}
