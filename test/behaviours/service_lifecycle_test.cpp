#include "behaviours/service_lifecycle.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace dynamod::behaviours;
using namespace std::chrono_literals;

namespace {

bool has(const actions& a, action::kind k, int value = -1) {
  return std::any_of(a.begin(), a.end(), [&](const action& x) { return x.what == k && (value < 0 || x.value == value); });
}
const action* find(const actions& a, action::kind k) {
  auto it = std::find_if(a.begin(), a.end(), [&](const action& x) { return x.what == k; });
  return it == a.end() ? nullptr : &*it;
}
end_reason::code quit_code(const actions& a) {
  const action* q = find(a, action::kind::quit);
  EXPECT_NE(q, nullptr);
  return q ? q->reason.what : end_reason::code::normal;
}

service_lifecycle running_service(lifecycle_options o = {}) {
  service_lifecycle s{o};
  s.on_dependencies_ready();
  s.on_spawned();
  return s;
}

}  // namespace

TEST(ServiceLifecycle, SpawnsOnlyOnceDependenciesAreReady) {
  service_lifecycle s{{}};
  EXPECT_EQ(s.state(), lifecycle_state::waiting);
  auto a = s.on_dependencies_ready();
  EXPECT_TRUE(has(a, action::kind::spawn));
  EXPECT_EQ(s.state(), lifecycle_state::starting);
}

TEST(ServiceLifecycle, WithoutReadinessItRunsAsSoonAsItIsSpawned) {
  auto s = running_service();
  EXPECT_EQ(s.state(), lifecycle_state::running);
}

TEST(ServiceLifecycle, ReadinessTypesWaitForReadyWithAStartTimeout) {
  service_lifecycle s{{.readiness_needed = true, .start_timeout = 5s}};
  s.on_dependencies_ready();
  auto a = s.on_spawned();
  EXPECT_TRUE(has(a, action::kind::start_probe));
  const action* t = find(a, action::kind::arm_timer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->which, action::timer::start);
  EXPECT_EQ(t->duration, 5s);
  EXPECT_EQ(s.state(), lifecycle_state::starting);
  a = s.on_ready();
  EXPECT_TRUE(has(a, action::kind::cancel_timer));
  EXPECT_EQ(s.state(), lifecycle_state::running);
}

TEST(ServiceLifecycle, StartTimeoutStopsTheProcessAndFailsWithReadinessTimeout) {
  service_lifecycle s{{.readiness_needed = true, .start_timeout = 5s, .stop_timeout = 2s}};
  s.on_dependencies_ready();
  s.on_spawned();
  auto a = s.on_timer(action::timer::start);
  EXPECT_TRUE(has(a, action::kind::signal, 15));
  EXPECT_EQ(s.state(), lifecycle_state::stopping);
  a = s.on_timer(action::timer::stop);
  EXPECT_TRUE(has(a, action::kind::signal, 9)) << "SIGKILL after the stop timeout";
  a = s.on_exit({process_end::how::killed, 9});
  EXPECT_EQ(quit_code(a), end_reason::code::readiness_timeout);
}

TEST(ServiceLifecycle, ExitBeforeReadyIsAnExitWithItsStatus) {
  service_lifecycle s{{.readiness_needed = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  auto a = s.on_exit({process_end::how::exited, 3});
  EXPECT_EQ(quit_code(a), end_reason::code::exited);
  EXPECT_EQ(find(a, action::kind::quit)->reason.value, 3);
}

TEST(ServiceLifecycle, CleanExitIsNormalAndSignalsAreReported) {
  auto s = running_service();
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::exited, 0})), end_reason::code::normal);
  auto k = running_service();
  auto a = k.on_exit({process_end::how::killed, 9});
  EXPECT_EQ(quit_code(a), end_reason::code::killed);
  EXPECT_EQ(find(a, action::kind::quit)->reason.value, 9);
}

TEST(ServiceLifecycle, StopSendsTheStopSignalThenKillsAfterTheTimeout) {
  auto s = running_service({.stop_timeout = 3s, .stop_signal = 1});
  auto a = s.on_stop();
  EXPECT_TRUE(has(a, action::kind::signal, 1));
  const action* t = find(a, action::kind::arm_timer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->duration, 3s);
  EXPECT_TRUE(has(s.on_timer(action::timer::stop), action::kind::signal, 9));
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::killed, 9})), end_reason::code::shutdown);
}

TEST(ServiceLifecycle, ZeroStopTimeoutIsBrutalKill) {
  auto s = running_service({.stop_timeout = 0ms});
  auto a = s.on_stop();
  EXPECT_TRUE(has(a, action::kind::signal, 9));
  EXPECT_FALSE(has(a, action::kind::arm_timer));
}

TEST(ServiceLifecycle, StopCommandReplacesTheSignal) {
  auto s = running_service({.stop_command = true});
  auto a = s.on_stop();
  EXPECT_TRUE(has(a, action::kind::run_stop_command));
  EXPECT_FALSE(has(a, action::kind::signal));
}

TEST(ServiceLifecycle, StopWhileWaitingQuitsAtOnce) {
  service_lifecycle s{{}};
  EXPECT_EQ(quit_code(s.on_stop()), end_reason::code::shutdown);
}

TEST(ServiceLifecycle, FailedDependencyBlocksWithoutQuittingAndRecovers) {
  service_lifecycle s{{}};
  auto a = s.on_dependency_failed("db", "exited with status 1");
  EXPECT_FALSE(has(a, action::kind::quit));
  EXPECT_EQ(s.state(), lifecycle_state::blocked);
  EXPECT_EQ(s.blocked_on(), "db: exited with status 1");
  EXPECT_TRUE(has(s.on_dependencies_ready(), action::kind::spawn));
}

TEST(ServiceLifecycle, ABlockedServiceReportsANewReasonOnlyOnce) {
  service_lifecycle s{{}};
  s.on_dependency_failed("db", "exited with status 1");
  auto a = s.on_dependency_failed("db", "gave up: exceeded its max-restarts (5 in 60s)");
  EXPECT_TRUE(has(a, action::kind::report));
  EXPECT_EQ(s.blocked_on(), "db: gave up: exceeded its max-restarts (5 in 60s)");
  EXPECT_TRUE(s.on_dependency_failed("db", "gave up: exceeded its max-restarts (5 in 60s)").empty());
}

TEST(ServiceLifecycle, OneshotIsDoneWhenItExitsZeroAndFailedOtherwise) {
  service_lifecycle ok{{.oneshot = true}};
  ok.on_dependencies_ready();
  ok.on_spawned();
  auto a = ok.on_exit({process_end::how::exited, 0});
  EXPECT_FALSE(has(a, action::kind::quit));
  EXPECT_EQ(ok.state(), lifecycle_state::done);
  service_lifecycle bad{{.oneshot = true}};
  bad.on_dependencies_ready();
  bad.on_spawned();
  EXPECT_EQ(quit_code(bad.on_exit({process_end::how::exited, 2})), end_reason::code::exited);
}

TEST(ServiceLifecycle, ADoneOneshotRunsItsStopCommandWhenStopped) {
  service_lifecycle s{{.oneshot = true, .stop_timeout = 5s, .stop_command = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  s.on_exit({process_end::how::exited, 0});
  auto a = s.on_stop();
  EXPECT_TRUE(has(a, action::kind::run_stop_command));
  EXPECT_TRUE(has(a, action::kind::arm_timer));
  EXPECT_FALSE(has(a, action::kind::quit));
  EXPECT_EQ(s.state(), lifecycle_state::stopping);
  EXPECT_EQ(quit_code(s.on_stop_command_exit()), end_reason::code::shutdown);
  EXPECT_TRUE(s.on_stop_command_exit().empty());  // once
}

TEST(ServiceLifecycle, AHangingStopCommandOfADoneOneshotEndsAtTheStopTimeout) {
  service_lifecycle s{{.oneshot = true, .stop_timeout = 5s, .stop_command = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  s.on_exit({process_end::how::exited, 0});
  s.on_stop();
  auto a = s.on_timer(action::timer::stop);
  EXPECT_FALSE(has(a, action::kind::signal));  // no main process: nothing to signal by pid
  EXPECT_EQ(quit_code(a), end_reason::code::shutdown);
}

TEST(ServiceLifecycle, ADoneOneshotWithoutStopCommandEndsAtOnce) {
  service_lifecycle s{{.oneshot = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  s.on_exit({process_end::how::exited, 0});
  EXPECT_EQ(quit_code(s.on_stop()), end_reason::code::shutdown);
  // A stop command's exit for a running service changes nothing: the main process's exit decides.
  auto r = running_service({.stop_command = true});
  r.on_stop();
  EXPECT_TRUE(r.on_stop_command_exit().empty());
}

TEST(ServiceLifecycle, WatchdogPingsRearmAndExpiryAbortsThenKills) {
  auto s = running_service({.stop_timeout = 1s, .watchdog = 2s});
  const auto ping = s.on_watchdog_ping();
  const action* t = find(ping, action::kind::arm_timer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->which, action::timer::watchdog);
  auto a = s.on_timer(action::timer::watchdog);
  EXPECT_TRUE(has(a, action::kind::signal, 6)) << "SIGABRT first, as systemd";
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::dumped, 6})), end_reason::code::watchdog);
}

// WATCHDOG=trigger on a service without a watchdog used to read the empty optional (an abort under
// _GLIBCXX_ASSERTIONS). As systemd: act as if the watchdog expired, configured or not.
TEST(ServiceLifecycle, WatchdogTriggerWithoutAWatchdogEndsTheServiceAsAWatchdogExpiry) {
  auto s = running_service({.stop_timeout = 1s});
  auto a = s.on_watchdog_trigger();
  EXPECT_TRUE(has(a, action::kind::signal, 6));
  EXPECT_EQ(s.state(), lifecycle_state::stopping);
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::dumped, 6})), end_reason::code::watchdog);
}

TEST(ServiceLifecycle, WatchdogTriggerWithAWatchdogAndWhileStarting) {
  auto s = running_service({.stop_timeout = 1s, .watchdog = 2s});
  EXPECT_TRUE(has(s.on_watchdog_trigger(), action::kind::signal, 6));
  service_lifecycle starting{{.readiness_needed = true, .stop_timeout = 1s}};
  starting.on_dependencies_ready();
  starting.on_spawned();
  EXPECT_TRUE(has(starting.on_watchdog_trigger(), action::kind::signal, 6));
  EXPECT_EQ(quit_code(starting.on_exit({process_end::how::killed, 9})), end_reason::code::watchdog);
  service_lifecycle waiting{{}};
  EXPECT_TRUE(waiting.on_watchdog_trigger().empty()) << "nothing runs yet";
}

TEST(ServiceLifecycle, AWatchdogTimerWithoutAWatchdogIsIgnored) {
  auto s = running_service({.stop_timeout = 1s});
  EXPECT_TRUE(s.on_timer(action::timer::watchdog).empty());
  EXPECT_TRUE(s.on_watchdog_ping().empty());
  EXPECT_EQ(s.state(), lifecycle_state::running);
}

TEST(ServiceLifecycle, AnExtendTimeoutBeyondADayIsCutToADay) {
  service_lifecycle s{{.readiness_needed = true, .start_timeout = 1s}};
  s.on_dependencies_ready();
  s.on_spawned();
  const auto extended = s.on_extend_timeout(std::chrono::duration_cast<milliseconds>(std::chrono::microseconds::max()));
  const action* t = find(extended, action::kind::arm_timer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->duration, kMaxTimeoutExtension);
}

TEST(ServiceLifecycle, ExtendTimeoutMovesTheStartDeadline) {
  service_lifecycle s{{.readiness_needed = true, .start_timeout = 1s}};
  s.on_dependencies_ready();
  s.on_spawned();
  const auto extended = s.on_extend_timeout(20s);
  const action* t = find(extended, action::kind::arm_timer);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->duration, 20s);
}

TEST(ServiceLifecycle, StoppingNoticeThenExitIsAnOrdinaryExit) {
  auto s = running_service();
  s.on_stopping_notice();
  EXPECT_EQ(s.state(), lifecycle_state::stopping);
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::exited, 0})), end_reason::code::normal);
}

TEST(ServiceLifecycle, AdoptedReadyProcessRunsWithoutASpawn) {
  service_lifecycle s{{.readiness_needed = true}};
  auto a = s.on_adopted(true);
  EXPECT_FALSE(has(a, action::kind::spawn));
  EXPECT_EQ(s.state(), lifecycle_state::running);
}

TEST(ServiceLifecycle, StopRequestDuringAKillForTimeoutEndsAsShutdown) {
  service_lifecycle s{{.readiness_needed = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  s.on_timer(action::timer::start);
  s.on_stop();
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::killed, 15})), end_reason::code::shutdown);
}

TEST(ServiceLifecycle, ForkingLauncherExitingZeroLooksForTheDaemon) {
  service_lifecycle s{{.forking = true, .start_timeout = 5s}};
  s.on_dependencies_ready();
  s.on_spawned();
  EXPECT_EQ(s.state(), lifecycle_state::starting);
  auto a = s.on_exit({process_end::how::exited, 0});
  EXPECT_TRUE(has(a, action::kind::find_main_pid));
  EXPECT_FALSE(has(a, action::kind::quit));
  s.on_main_pid_found();
  EXPECT_EQ(s.state(), lifecycle_state::running);
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::killed, 9})), end_reason::code::killed);
}

TEST(ServiceLifecycle, ForkingLauncherFailingIsAFailedStart) {
  service_lifecycle s{{.forking = true}};
  s.on_dependencies_ready();
  s.on_spawned();
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::exited, 1})), end_reason::code::exited);
}

TEST(ServiceLifecycle, ForkingDaemonThatNeverAppearsFailsAtTheStartTimeout) {
  service_lifecycle s{{.forking = true, .start_timeout = 5s}};
  s.on_dependencies_ready();
  s.on_spawned();
  s.on_exit({process_end::how::exited, 0});
  EXPECT_EQ(quit_code(s.on_timer(action::timer::start)), end_reason::code::start_failed);
}

TEST(ServiceLifecycle, AnOomKillEndsTheServiceWithReasonOom) {
  auto s = running_service();
  auto a = s.on_oom();
  EXPECT_TRUE(has(a, action::kind::signal, 9)) << "whatever is left in the cgroup goes";
  EXPECT_EQ(s.state(), lifecycle_state::stopping);
  EXPECT_TRUE(s.on_oom().empty()) << "a second kill in the same episode changes nothing";
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::killed, 9})), end_reason::code::oom);
}

TEST(ServiceLifecycle, AnOomKillOfTheMainProcessItselfIsOomToo) {
  // The actor learns of the OOM kill when the main process's exit arrives (memory.events is read then).
  auto s = running_service();
  s.on_oom();
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::exited, 137})), end_reason::code::oom);
}

TEST(ServiceLifecycle, AnOomKillDuringAStopIsPartOfTheStop) {
  auto s = running_service();
  s.on_stop();
  EXPECT_TRUE(s.on_oom().empty());
  EXPECT_EQ(quit_code(s.on_exit({process_end::how::killed, 9})), end_reason::code::shutdown);
}

TEST(ServiceLifecycle, AnOomKillBeforeTheStartOrAfterADoneOneshotIsIgnored) {
  service_lifecycle waiting{{}};
  EXPECT_TRUE(waiting.on_oom().empty());
  lifecycle_options o;
  o.oneshot = true;
  auto s = running_service(o);
  s.on_exit({process_end::how::exited, 0});
  ASSERT_EQ(s.state(), lifecycle_state::done);
  EXPECT_TRUE(s.on_oom().empty());
}

TEST(ServiceLifecycle, ASpawnThatLacksDescriptorsIsRetriedWithBackoffNotCountedAsAnExit) {
  service_lifecycle s{{}};
  s.on_dependencies_ready();
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 10; ++i) {
    auto a = s.on_spawn_failed("open /dev/null: Too many open files", true);
    EXPECT_FALSE(has(a, action::kind::quit));
    const action* t = find(a, action::kind::arm_timer);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->which, action::timer::start);
    delays.push_back(t->duration);
    EXPECT_EQ(s.state(), lifecycle_state::starting);
    a = s.on_timer(action::timer::start);
    EXPECT_TRUE(has(a, action::kind::spawn));  // tries again instead of failing the start
  }
  EXPECT_EQ(delays.front(), 500ms);
  EXPECT_EQ(delays[1], 1000ms);
  EXPECT_EQ(delays.back(), 30000ms);  // capped
  s.on_spawned();
  EXPECT_EQ(s.state(), lifecycle_state::running);
}

TEST(ServiceLifecycle, StopWhileASpawnRetryWaitsQuitsAsShutdown) {
  service_lifecycle s{{}};
  s.on_dependencies_ready();
  s.on_spawn_failed("fork: Cannot allocate memory", true);
  auto a = s.on_stop();
  EXPECT_FALSE(has(a, action::kind::signal));  // there is no process
  EXPECT_EQ(quit_code(a), end_reason::code::shutdown);
  EXPECT_TRUE(s.on_timer(action::timer::start).empty());  // a stale timer does nothing
}

TEST(ServiceLifecycle, AnyOtherSpawnFailureIsAFailedStart) {
  service_lifecycle s{{}};
  s.on_dependencies_ready();
  EXPECT_EQ(quit_code(s.on_spawn_failed("exec /x: No such file or directory")), end_reason::code::start_failed);
}
