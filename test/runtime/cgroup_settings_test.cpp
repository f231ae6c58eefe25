#include "runtime/cgroup/cgroup_settings.hpp"

#include <gtest/gtest.h>

using namespace dynamod;

TEST(CgroupSettings, EveryLimitBecomesItsInterfaceFile) {
  service_config c;
  c.memory_max = {true, false, 64 << 20};
  c.memory_high = {true, false, 48 << 20};
  c.memory_swap_max = {true, true, 0};
  c.cpu_weight = 50;
  c.cpu_max = "20000 100000";
  c.pids_max = 32;
  c.io_weight = 200;
  c.io_max = {"8:0 rbps=1048576", "8:16 wiops=100"};
  using kv = std::pair<std::string, std::string>;
  EXPECT_EQ(cgroup_settings(c), (std::vector<kv>{{"memory.high", "50331648"},
                                                 {"memory.max", "67108864"},
                                                 {"memory.swap.max", "max"},
                                                 {"cpu.weight", "50"},
                                                 {"cpu.max", "20000 100000"},
                                                 {"pids.max", "32"},
                                                 {"io.weight", "default 200"},
                                                 {"io.max", "8:0 rbps=1048576"},
                                                 {"io.max", "8:16 wiops=100"}}));
  c = service_config{};
  c.pids_max = -1;
  EXPECT_EQ(cgroup_settings(c), (std::vector<kv>{{"pids.max", "max"}}));
  EXPECT_TRUE(cgroup_settings(service_config{}).empty());
}

TEST(CgroupSettings, OnlyTheControllersDynamodUsesAreEnabled) {
  EXPECT_EQ(controllers_to_enable("cpuset cpu io memory hugetlb pids rdma misc\n"),
            (std::vector<std::string>{"cpu", "io", "memory", "pids"}));
  EXPECT_TRUE(controllers_to_enable("").empty());
}

TEST(CgroupSettings, FlatKeyedFilesAndLimits) {
  auto events = parse_flat_keyed("low 0\nhigh 12\nmax 40\noom 2\noom_kill 1\noom_group_kill 0\n");
  EXPECT_EQ(events["oom_kill"], 1u);
  EXPECT_EQ(events["high"], 12u);
  EXPECT_EQ(parse_flat_keyed("populated 1\nfrozen 0\n")["populated"], 1u);
  EXPECT_EQ(parse_limit("max\n"), std::nullopt);
  EXPECT_EQ(parse_limit("1048576\n"), 1048576u);
  EXPECT_EQ(unified_cgroup("0::/dynamod/web/httpd\n"), "/dynamod/web/httpd");
  EXPECT_EQ(unified_cgroup("12:pids:/x\n1:name=systemd:/y\n0::/z\n"), "/z");
  EXPECT_EQ(unified_cgroup("12:pids:/x\n"), std::nullopt);
}
