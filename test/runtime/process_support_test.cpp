#include <gtest/gtest.h>

#include "runtime/config/service_config.hpp"
#include "runtime/process/service_environment.hpp"
#include "runtime/state/adoption_record.hpp"

using namespace dynamod;

TEST(EnvironmentFile, ParsesAssignmentsCommentsQuotesAndExport) {
  std::vector<std::string> problems;
  auto env = parse_environment_file(
      "# comment\n; also a comment\n\nA=1\nexport B=two words\nC=\"quoted value\"\nD='single'\nbroken line\n=nokey\n",
      problems);
  EXPECT_EQ(env.at("A"), "1");
  EXPECT_EQ(env.at("B"), "two words");
  EXPECT_EQ(env.at("C"), "quoted value");
  EXPECT_EQ(env.at("D"), "single");
  EXPECT_EQ(env.size(), 4u);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "line 8: expected KEY=VALUE");
}

TEST(ServiceEnvironment, LaterSourcesWinAndReadinessVariablesAreSet) {
  service_config c;
  c.name = "web";
  c.environment = {{"MODE", "config"}, {"PATH", "/opt/bin"}};
  environment_inputs in;
  in.notify_socket = "/run/dynamod/notify";
  in.invocation_id = "0123456789abcdef0123456789abcdef";
  in.watchdog_usec = 5000000;
  in.ready_fd = 5;
  in.from_file = {{"MODE", "file"}, {"FROM_FILE", "yes"}};
  auto env = build_environment(c, in);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("MODE=config"));
  EXPECT_TRUE(has("PATH=/opt/bin"));
  EXPECT_TRUE(has("FROM_FILE=yes"));
  EXPECT_TRUE(has("NOTIFY_SOCKET=/run/dynamod/notify"));
  EXPECT_TRUE(has("WATCHDOG_USEC=5000000"));
  EXPECT_TRUE(has("DYNAMOD_READY_FD=5"));
  EXPECT_TRUE(has("DYNAMOD_SERVICE=web"));
  EXPECT_TRUE(has("HOME=/"));
}

TEST(InvocationId, Is32HexDigitsAndFresh) {
  const auto a = new_invocation_id(), b = new_invocation_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(AdoptionRecord, RoundTrips) {
  adoption_record r;
  r.pid = 4242;
  r.start_time = 987654;
  r.ready = true;
  r.invocation_id = "abc";
  r.status_text = "serving\nrequests";
  auto back = parse_adoption_record(format_adoption_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->start_time, 987654u);
  EXPECT_TRUE(back->ready);
  EXPECT_EQ(back->invocation_id, "abc");
  EXPECT_EQ(back->status_text, "serving requests");
}

TEST(AdoptionRecord, RejectsRecordsWithoutAProcessUnlessDone) {
  EXPECT_FALSE(parse_adoption_record("ready=1\n"));
  EXPECT_FALSE(parse_adoption_record("pid=abc\nstart_time=1\n"));
  EXPECT_FALSE(parse_adoption_record("pid=1\nstart_time=1\n")) << "pid 1 is never a service";
  auto done = parse_adoption_record("pid=0\nstart_time=0\ndone=1\n");
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->done);
}

TEST(ProcStat, ParsesStateParentSessionAndStartTime) {
  auto st = parse_proc_stat_line(
      "1234 (my (odd) name) S 77 1234 1230 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 424242 1000 100 18446744073709551615");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->parent, 77);
  EXPECT_EQ(st->session, 1230);
  EXPECT_EQ(st->start_time, 424242u);
  EXPECT_FALSE(st->zombie);
  auto z = parse_proc_stat_line("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5");
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->zombie);
}

TEST(AdoptionStore, OnlyTrustsALiveProcessWithTheSameStartTime) {
  const std::string dir = testing::TempDir() + "/adoption-" + std::to_string(::getpid());
  adoption_store store{dir};
  auto self = read_proc_status(::getpid());
  ASSERT_TRUE(self);
  auto record = [](pid_t pid, uint64_t start_time) {
    adoption_record r;
    r.pid = pid;
    r.start_time = start_time;
    r.ready = true;
    r.invocation_id = "x";
    return r;
  };
  ASSERT_TRUE(store.save("me", record(::getpid(), self->start_time)));
  EXPECT_TRUE(store.load_live("me"));
  ASSERT_TRUE(store.save("reused", record(::getpid(), self->start_time + 1)));
  EXPECT_FALSE(store.load_live("reused")) << "same pid, other process: a reused pid";
  store.remove("me");
  EXPECT_FALSE(store.load("me"));
  store.remove("reused");
}
