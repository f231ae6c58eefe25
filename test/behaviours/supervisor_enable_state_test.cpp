// dynamod's enable state (systemctl enable/disable) and reset-failed on top of OTP's supervisor: a child without
// autostart is started only when asked, and a group restart brings back only what ran.
#include "behaviours/supervisor_logic.hpp"

#include <gtest/gtest.h>

using namespace dynamod::behaviours;

namespace {

command start(const std::string& id) { return {command::kind::start, id, {}}; }
command terminate(const std::string& id) { return {command::kind::terminate, id, {}}; }
using cmds = std::vector<command>;

std::vector<child_spec> children(std::initializer_list<std::pair<const char*, bool>> ids) {
  std::vector<child_spec> out;
  for (auto [id, autostart] : ids) {
    child_spec s{id, restart_type::permanent, std::nullopt};
    s.autostart = autostart;
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST(EnableState, AChildWithoutAutostartStaysStoppedUntilStarted) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, children({{"a", true}, {"manual", false}, {"c", true}})};
  EXPECT_EQ(sup.start(), (cmds{start("a"), start("c")}));
  EXPECT_EQ(sup.state("manual"), child_state::stopped);
  EXPECT_EQ(sup.start_child("manual"), cmds{start("manual")});
  EXPECT_EQ(sup.state("manual"), child_state::running);
  EXPECT_EQ(sup.on_exit("manual", exit_kind::abnormal, 0), cmds{start("manual")}) << "once running, restarted as usual";
}

TEST(EnableState, AGroupRestartLeavesAStoppedManualChildDown) {
  supervisor_logic sup{strategy::one_for_all, {3, 5}, children({{"a", true}, {"manual", false}, {"c", true}})};
  sup.start();
  auto out = sup.on_exit("a", exit_kind::abnormal, 0);
  EXPECT_EQ(out, cmds{terminate("c")});
  EXPECT_EQ(sup.on_terminated("c"), (cmds{start("a"), start("c")}));
  EXPECT_EQ(sup.state("manual"), child_state::stopped);
}

TEST(EnableState, AGroupRestartBringsBackAManualChildThatRan) {
  supervisor_logic sup{strategy::one_for_all, {3, 5}, children({{"a", true}, {"manual", false}, {"c", true}})};
  sup.start();
  sup.start_child("manual");
  EXPECT_EQ(sup.on_exit("a", exit_kind::abnormal, 0), cmds{terminate("c")});
  EXPECT_EQ(sup.on_terminated("c"), cmds{terminate("manual")});
  EXPECT_EQ(sup.on_terminated("manual"), (cmds{start("a"), start("manual"), start("c")}));
}

TEST(EnableState, SetAutostartChangesOnlyLaterStarts) {
  supervisor_logic sup{strategy::one_for_one, {3, 5}, children({{"a", true}})};
  sup.start();
  sup.set_autostart("a", false);
  EXPECT_EQ(sup.state("a"), child_state::running) << "disabling does not stop it";
  EXPECT_EQ(sup.on_exit("a", exit_kind::abnormal, 0), cmds{start("a")});
}

TEST(ResetFailed, AFailedChildBecomesStoppedWithAFreshHistory) {
  std::vector<child_spec> specs = children({{"x", true}});
  specs[0].own_limit = intensity_limit{1, 60};
  supervisor_logic one{strategy::one_for_one, {10, 60}, specs, termination_order::strict, give_up_mode::degrade};
  one.start();
  EXPECT_EQ(one.on_exit("x", exit_kind::abnormal, 0), cmds{start("x")});
  one.on_exit("x", exit_kind::abnormal, 1);
  ASSERT_EQ(one.state("x"), child_state::failed);
  EXPECT_FALSE(one.reset_failed("nosuch"));
  EXPECT_TRUE(one.reset_failed("x"));
  EXPECT_EQ(one.state("x"), child_state::stopped);
  EXPECT_FALSE(one.reset_failed("x")) << "only a failed child is reset";
  EXPECT_EQ(one.start_child("x"), cmds{start("x")});
  EXPECT_EQ(one.on_exit("x", exit_kind::abnormal, 2), cmds{start("x")}) << "its own limit starts afresh";
}
