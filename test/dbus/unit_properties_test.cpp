#include "dbus/unit_properties.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace dynamod::dbus;

namespace {

// The types systemctl 252 maps these properties with (../shared/spec/dbus.md §2): any other type is a hard error.
const std::map<std::string, std::string> kSystemdTypes{
    {"Id", "s"}, {"Names", "as"}, {"Description", "s"}, {"LoadState", "s"}, {"ActiveState", "s"},
    {"FreezerState", "s"}, {"SubState", "s"}, {"Following", "s"}, {"UnitFileState", "s"}, {"UnitFilePreset", "s"},
    {"FragmentPath", "s"}, {"SourcePath", "s"}, {"DropInPaths", "as"}, {"Documentation", "as"}, {"Triggers", "as"},
    {"TriggeredBy", "as"}, {"NeedDaemonReload", "b"}, {"Transient", "b"}, {"CanStart", "b"}, {"CanStop", "b"},
    {"CanReload", "b"}, {"ConditionResult", "b"}, {"AssertResult", "b"},
    {"InactiveExitTimestamp", "t"}, {"InactiveExitTimestampMonotonic", "t"}, {"ActiveEnterTimestamp", "t"},
    {"ActiveEnterTimestampMonotonic", "t"}, {"ActiveExitTimestamp", "t"}, {"ActiveExitTimestampMonotonic", "t"},
    {"InactiveEnterTimestamp", "t"}, {"InactiveEnterTimestampMonotonic", "t"},
    {"Type", "s"}, {"Result", "s"}, {"MainPID", "u"}, {"ControlPID", "u"}, {"ExecMainPID", "u"},
    {"ExecMainStartTimestamp", "t"}, {"ExecMainStartTimestampMonotonic", "t"}, {"ExecMainExitTimestamp", "t"},
    {"ExecMainExitTimestampMonotonic", "t"}, {"ExecMainCode", "i"}, {"ExecMainStatus", "i"}, {"StatusText", "s"},
    {"StatusErrno", "i"}, {"NRestarts", "u"}, {"PIDFile", "s"}, {"RuntimeMaxUSec", "t"}, {"LogNamespace", "s"},
    {"ControlGroup", "s"}, {"MemoryCurrent", "t"}, {"MemoryMax", "t"}, {"TasksCurrent", "t"}, {"TasksMax", "t"},
    {"CPUUsageNSec", "t"},
};

unit_view running_sshd() {
  unit_view v;
  v.unit = "sshd.service";
  v.description = "The OpenSSH server";
  v.state = dynamod_state::running;
  v.fragment_path = "/etc/dynamod/services/sshd.toml";
  v.main_pid = 291;
  v.restarts = 2;
  v.last_exit = "killed by SIGKILL";
  v.control_group = "/dynamod/system/sshd";
  v.memory_current = 4 << 20;
  v.tasks_current = 1;
  v.active_enter = {1'700'000'000'000'000, 35'000'000};
  return v;
}

std::map<std::string, property_value> by_name(const std::vector<property>& props) {
  std::map<std::string, property_value> m;
  for (const auto& p : props) {
    EXPECT_TRUE(m.emplace(p.name, p.value).second) << "twice: " << p.name;
  }
  return m;
}

}  // namespace

TEST(UnitProperties, EveryTypeIsTheOneSystemctlExpects) {
  unit_view target;
  target.unit = "system.target";
  target.state = dynamod_state::running;
  target.supervisor = true;
  for (const auto& props : {unit_properties(running_sshd()), unit_properties(target),
                            not_found_unit_properties("nosuch.service")}) {
    for (const auto& p : props) {
      auto it = kSystemdTypes.find(p.name);
      ASSERT_NE(it, kSystemdTypes.end()) << "a property systemd does not have: " << p.name;
      EXPECT_EQ(dbus_signature(p.value), it->second) << p.name;
    }
  }
}

TEST(UnitProperties, ARunningServiceRendersAStatus) {
  auto m = by_name(unit_properties(running_sshd()));
  EXPECT_EQ(std::get<std::string>(m.at("Id")), "sshd.service");
  EXPECT_EQ(std::get<std::string>(m.at("LoadState")), "loaded");
  EXPECT_EQ(std::get<std::string>(m.at("ActiveState")), "active");
  EXPECT_EQ(std::get<std::string>(m.at("SubState")), "running");
  EXPECT_EQ(std::get<uint32_t>(m.at("MainPID")), 291u);
  EXPECT_EQ(std::get<uint32_t>(m.at("NRestarts")), 2u);
  EXPECT_EQ(std::get<std::string>(m.at("Result")), "signal") << "how the last incarnation ended";
  EXPECT_EQ(std::get<int32_t>(m.at("ExecMainStatus")), 9);
  EXPECT_EQ(std::get<uint64_t>(m.at("MemoryCurrent")), 4u << 20);
  EXPECT_EQ(std::get<uint64_t>(m.at("MemoryMax")), kNotShown) << "no limit: not shown";
  EXPECT_EQ(std::get<uint64_t>(m.at("ActiveEnterTimestamp")), 1'700'000'000'000'000u);
  EXPECT_EQ(std::get<std::string>(m.at("UnitFileState")), "enabled");
  EXPECT_EQ(std::get<std::string>(m.at("FragmentPath")), "/etc/dynamod/services/sshd.toml");
}

TEST(UnitProperties, AnUnknownUnitIsNotFoundNotAnError) {
  auto m = by_name(not_found_unit_properties("nosuch.service"));
  EXPECT_EQ(std::get<std::string>(m.at("LoadState")), "not-found");
  EXPECT_EQ(std::get<std::string>(m.at("ActiveState")), "inactive");
  EXPECT_EQ(std::get<std::string>(m.at("SubState")), "dead");
  EXPECT_EQ(m.count("MainPID"), 0u) << "no Service interface for what does not exist";
  unit_view gone;
  gone.unit = "gone.service";
  EXPECT_EQ(std::get<std::string>(by_name(unit_properties(gone)).at("LoadState")), "not-found");
}

TEST(UnitProperties, GetAllByInterface) {
  const auto all = unit_properties(running_sshd());
  auto everything = properties_of(all, "", true);
  ASSERT_TRUE(everything);
  EXPECT_EQ(everything->size(), all.size()) << "\"\": every interface merged, as systemctl asks";
  auto unit_only = properties_of(all, kUnitInterface, true);
  ASSERT_TRUE(unit_only);
  for (const auto& p : *unit_only) EXPECT_EQ(p.interface, kUnitInterface);
  EXPECT_LT(unit_only->size(), all.size());
  EXPECT_TRUE(properties_of(all, kServiceInterface, true));
  EXPECT_FALSE(properties_of(all, kServiceInterface, false)) << "a target has no Service interface";
  EXPECT_FALSE(properties_of(all, "org.example.Bogus", true));
}
