#include "dbus/unit_state.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace dynamod::dbus;

TEST(UnitState, EveryDynamodStateIsAStateSystemctlAccepts) {
  const std::set<std::string> active{"active", "reloading", "inactive", "failed", "activating", "deactivating",
                                     "maintenance"};
  for (auto s : {dynamod_state::unknown, dynamod_state::waiting, dynamod_state::starting, dynamod_state::running,
                 dynamod_state::stopping, dynamod_state::done, dynamod_state::failed, dynamod_state::stopped,
                 dynamod_state::disabled}) {
    EXPECT_TRUE(active.count(service_unit_state(s).active_state)) << static_cast<int>(s);
    EXPECT_TRUE(active.count(target_unit_state(s).active_state)) << static_cast<int>(s);
  }
}

TEST(UnitState, ServicesMapAsSystemdShowsThem) {
  EXPECT_EQ(service_unit_state(dynamod_state::running).sub_state, "running");
  EXPECT_EQ(service_unit_state(dynamod_state::done).active_state, "active") << "a oneshot that ran stays active";
  EXPECT_EQ(service_unit_state(dynamod_state::done).sub_state, "exited");
  EXPECT_EQ(service_unit_state(dynamod_state::failed).active_state, "failed");
  EXPECT_EQ(service_unit_state(dynamod_state::starting).active_state, "activating");
  const auto missing = service_unit_state(dynamod_state::unknown);
  EXPECT_EQ(missing.load_state, "not-found");
  EXPECT_EQ(missing.active_state, "inactive");
  EXPECT_EQ(missing.sub_state, "dead");
  EXPECT_EQ(parse_dynamod_state("running"), dynamod_state::running);
  EXPECT_EQ(parse_dynamod_state("bogus"), dynamod_state::unknown);
}

TEST(UnitState, ExitsBecomeResultAndExecMain) {
  auto e = summarize_exit("exited with status 3", "");
  EXPECT_EQ(e.result, "exit-code");
  EXPECT_EQ(e.code, 1);
  EXPECT_EQ(e.status, 3);
  auto k = summarize_exit("killed by SIGKILL", "");
  EXPECT_EQ(k.result, "signal");
  EXPECT_EQ(k.code, 2);
  EXPECT_EQ(k.status, 9);
  auto d = summarize_exit("killed by SIGSEGV (core dumped)", "");
  EXPECT_EQ(d.result, "core-dump");
  EXPECT_EQ(d.code, 3);
  EXPECT_EQ(d.status, 11);
  // A plain SIGTERM (systemctl kill, a stop) ends a service cleanly, as systemd counts it.
  auto t = summarize_exit("killed by SIGTERM", "");
  EXPECT_EQ(t.result, "success");
  EXPECT_EQ(t.code, 2);
  EXPECT_EQ(t.status, 15);
  EXPECT_EQ(summarize_exit("killed by SIGHUP", "").result, "success");
  EXPECT_EQ(summarize_exit("exited with status 0", "").result, "success");
  EXPECT_EQ(summarize_exit("oom", "").result, "oom-kill");
  EXPECT_EQ(summarize_exit("readiness timeout: not ready after 30000ms", "").result, "timeout");
  EXPECT_EQ(summarize_exit("watchdog timeout: no WATCHDOG=1 within 2000ms", "").result, "watchdog");
  EXPECT_EQ(summarize_exit("start failed: No such file or directory", "").result, "resources");
  EXPECT_EQ(summarize_exit("shutdown", "").result, "success");
  EXPECT_EQ(summarize_exit("", "").code, 0) << "never ran";
  EXPECT_EQ(summarize_exit("exited with status 1", "gave up: 5 restarts in 60s").result, "start-limit-hit");
}
