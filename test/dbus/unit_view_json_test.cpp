#include "dbus/unit_view_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace dynamod::dbus;

namespace {
const clock_now kNow{1'700'000'000'000'000, 500'000'000};  // realtime, monotonic (µs)
}

TEST(UnitViewJson, ARunningServiceFromTheList) {
  auto j = nlohmann::json::parse(R"({"name":"sshd","supervisor":"system","state":"running","pid":131,"restarts":2,
    "last_exit":"exited with status 255","detail":"","status_text":"Ready","type":"notify","enabled":true,
    "uptime_ms":60000,"since_ms":59000})");
  const unit_view v = service_view(j, kNow);
  EXPECT_EQ(v.unit, "sshd.service");
  EXPECT_EQ(v.state, dynamod_state::running);
  EXPECT_EQ(v.main_pid, 131u);
  EXPECT_EQ(v.restarts, 2u);
  EXPECT_EQ(v.service_type, "notify");
  EXPECT_TRUE(v.enabled);
  EXPECT_EQ(v.exec_main_start.realtime, kNow.realtime - 60'000'000);
  EXPECT_EQ(v.active_enter.monotonic, kNow.monotonic - 59'000'000);
  EXPECT_EQ(v.inactive_enter.realtime, 0u) << "not inactive";
}

TEST(UnitViewJson, AStoppedDisabledServiceFromStatusWithItsCgroup) {
  auto j = nlohmann::json::parse(R"({"name":"cron","state":"failed","pid":0,"detail":"gave up: 5 restarts in 60s",
    "enabled":false,"since_ms":1000,"file":"/etc/dynamod/services/cron.toml","log":["a","b"],
    "cgroup":{"cgroup":"/dynamod/system/cron","memory_current":4096,"memory_max":null,"pids_current":3,
              "cpu_usage_usec":1500}})");
  const unit_view v = service_view(j, kNow);
  EXPECT_FALSE(v.enabled);
  EXPECT_EQ(v.fragment_path, "/etc/dynamod/services/cron.toml");
  EXPECT_EQ(v.status_text, "gave up: 5 restarts in 60s") << "a failed service says why";
  EXPECT_EQ(v.control_group, "/dynamod/system/cron");
  EXPECT_EQ(v.memory_current, 4096u);
  EXPECT_FALSE(v.memory_max.has_value());
  EXPECT_EQ(v.tasks_current, 3u);
  EXPECT_EQ(v.cpu_usage_nsec, 1'500'000u);
  EXPECT_EQ(v.log, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(v.inactive_enter.realtime, kNow.realtime - 1'000'000);
  EXPECT_EQ(v.active_enter.realtime, 0u);
}

TEST(UnitViewJson, GarbageGivesAnEmptyViewNotAnException) {
  for (const char* text : {"null", "[]", "42", R"({"name":7,"state":[],"pid":"x","cgroup":5,"log":{}})",
                           R"({"pid":-5,"restarts":1e300,"since_ms":-1})"}) {
    const unit_view v = service_view(nlohmann::json::parse(text), kNow);
    EXPECT_EQ(v.main_pid, 0u) << text;
    EXPECT_TRUE(v.log.empty()) << text;
  }
  EXPECT_TRUE(units_of_list(nlohmann::json::parse("{}"), kNow).empty());
}

TEST(UnitViewJson, TheListGivesServicesThenEachSupervisorOnce) {
  auto j = nlohmann::json::parse(R"([{"name":"a","supervisor":"system","state":"running"},
    {"name":"b","supervisor":"boot","state":"done"},{"name":"c","supervisor":"system","state":"stopped"}])");
  auto units = units_of_list(j, kNow);
  ASSERT_EQ(units.size(), 5u);
  EXPECT_EQ(units[0].unit, "a.service");
  EXPECT_EQ(units[3].unit, "system.target");
  EXPECT_TRUE(units[3].supervisor);
  EXPECT_EQ(units[4].unit, "boot.target");
}
