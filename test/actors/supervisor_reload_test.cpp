// The pure parts of the supervisor's reload and termination: which services a reload moves between
// supervisors (handed over, not stopped), and OTP's shutdown timer per child.
#include "actors/supervisor_state.hpp"

#include <gtest/gtest.h>

using namespace dynamod;
using namespace std::chrono_literals;

namespace {

plan_node service(const std::string& name) {
  plan_node n;
  n.what = plan_node::kind::service;
  n.name = name;
  return n;
}

plan_node supervisor(const std::string& name, std::vector<plan_node> children) {
  plan_node n;
  n.what = plan_node::kind::supervisor;
  n.name = name;
  n.children = std::move(children);
  return n;
}

}  // namespace

TEST(ReloadMoves, AServiceThatChangesSupervisorIsMovedOthersAreNot) {
  const auto before = supervisor("root", {service("a"), supervisor("mid", {service("b"), service("c")})});
  const auto after = supervisor("root", {service("a"), service("b"), supervisor("mid", {service("c"), service("d")})});
  EXPECT_EQ(supervision::moved_services(before, after), std::vector<std::string>{"b"});
}

TEST(ReloadMoves, AddedAndRemovedServicesAreNotMoves) {
  const auto before = supervisor("root", {service("gone"), supervisor("mid", {})});
  const auto after = supervisor("root", {supervisor("mid", {service("new")})});
  EXPECT_TRUE(supervision::moved_services(before, after).empty());
}

TEST(ShutdownTimer, AServiceIsKilledAfterItsStopTimeoutAndTheGraceItsIncarnationNeeds) {
  EXPECT_EQ(behaviours::shutdown_timeout(false, 10s), 10s + behaviours::kShutdownGrace);
  EXPECT_EQ(behaviours::shutdown_timeout(false, 0ms), behaviours::kShutdownGrace);  // brutal_kill still waits the reap
}

TEST(ShutdownTimer, ASupervisorChildHasOtpsInfinity) {
  EXPECT_EQ(behaviours::shutdown_timeout(true, 10s), std::nullopt);
}
