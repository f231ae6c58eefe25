// The adoption state a runtime leaves its successor: intents written before the spawn, the definition's
// fingerprint, supervisors' restart histories, and the pure decision a new runtime makes from them.
#include <gtest/gtest.h>

#include <csignal>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "behaviours/supervisor_logic.hpp"
#include "runtime/config/definition_fingerprint.hpp"
#include "runtime/state/adoption_record.hpp"
#include "config_builders.hpp"

using namespace dynamod;

TEST(AdoptionState, AnIntentRoundTripsWithoutAPid) {
  adoption_record r;
  r.intent = true;
  r.invocation_id = "0123456789abcdef0123456789abcdef";
  r.fingerprint = "00ff00ff00ff00ff";
  r.cgroup_dir = "/sys/fs/cgroup/dynamod/web";
  auto back = parse_adoption_record(format_adoption_record(r));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->intent);
  EXPECT_EQ(back->pid, 0);
  EXPECT_EQ(back->invocation_id, r.invocation_id);
  EXPECT_EQ(back->fingerprint, r.fingerprint);
  EXPECT_EQ(back->cgroup_dir, r.cgroup_dir);
  EXPECT_FALSE(parse_adoption_record("pid=0\nstart_time=0\nintent=1\n")) << "an intent needs its marker";
}

TEST(AdoptionState, ARecordOfAnOlderRuntimeHasNoFingerprintAndIsNoIntent) {
  auto r = parse_adoption_record("pid=4242\nstart_time=7\nready=1\ndone=0\ninvocation_id=abc\nstatus=\n");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->intent);
  EXPECT_EQ(r->fingerprint, "");
}

namespace {

adoption_record running(pid_t pid, uint64_t start, const std::string& fp = "aaaa") {
  adoption_record r;
  r.pid = pid;
  r.start_time = start;
  r.ready = true;
  r.invocation_id = "inv";
  r.fingerprint = fp;
  return r;
}

adoption_record intent(const std::string& fp = "aaaa") {
  adoption_record r;
  r.invocation_id = "inv";
  r.intent = true;
  r.fingerprint = fp;
  return r;
}

proc_status alive(uint64_t start, bool zombie = false) {
  proc_status st;
  st.start_time = start;
  st.zombie = zombie;
  st.parent = 1;
  return st;
}

}  // namespace

TEST(AdoptionDecision, TheRecordedProcessIsAdoptedOnlyIfItIsStillTheSameOne) {
  using v = adoption_decision::verdict;
  EXPECT_EQ(decide_adoption(running(100, 5), alive(5), {}, "aaaa").what, v::adopt);
  EXPECT_EQ(decide_adoption(running(100, 5), alive(6), {}, "aaaa").what, v::start) << "a reused pid";
  EXPECT_EQ(decide_adoption(running(100, 5), std::nullopt, {}, "aaaa").what, v::start) << "gone";
  EXPECT_EQ(decide_adoption(running(100, 5), alive(5, true), {}, "aaaa").what, v::start) << "a zombie";
  EXPECT_FALSE(decide_adoption(running(100, 5), alive(5), {}, "aaaa").stale);
}

TEST(AdoptionDecision, AnIntentAdoptsTheOldestProcessCarryingItsMarker) {
  using v = adoption_decision::verdict;
  auto d = decide_adoption(intent(), std::nullopt, {{300, 10, true}, {301, 11, false}}, "aaaa");
  EXPECT_EQ(d.what, v::adopt);
  EXPECT_EQ(d.record.pid, 300);
  EXPECT_EQ(d.record.start_time, 10u);
  EXPECT_FALSE(d.record.intent);
  EXPECT_FALSE(d.record.ready) << "readiness is checked again";
  EXPECT_EQ(decide_adoption(intent(), std::nullopt, {}, "aaaa").what, v::start) << "it never started";
}

TEST(AdoptionDecision, AnIntentNeverAdoptsADescendantThatOutlivedTheMainProcess) {
  using v = adoption_decision::verdict;
  // The main process (a shell) was killed while no runtime ran; its `sleep` carries the marker, but is not the
  // service: adopted, it would pass for the service until it ended.
  EXPECT_EQ(decide_adoption(intent(), std::nullopt, {{301, 11, false}}, "aaaa").what, v::start);
  // An older stray does not hide the main process.
  auto d = decide_adoption(intent(), std::nullopt, {{299, 9, false}, {300, 10, true}}, "aaaa");
  EXPECT_EQ(d.what, v::adopt);
  EXPECT_EQ(d.record.pid, 300);
}

TEST(AdoptionDecision, AProcessStartedFromAnotherDefinitionIsAdoptedAndRestarted) {
  using v = adoption_decision::verdict;
  auto d = decide_adoption(running(100, 5, "old"), alive(5), {}, "new");
  EXPECT_EQ(d.what, v::adopt);
  EXPECT_TRUE(d.stale);
  auto i = decide_adoption(intent("old"), std::nullopt, {{300, 10, true}}, "new");
  EXPECT_EQ(i.what, v::adopt);
  EXPECT_TRUE(i.stale);
  // A record of an older runtime (no fingerprint) cannot tell: it is adopted as it is.
  EXPECT_FALSE(decide_adoption(running(100, 5, ""), alive(5), {}, "new").stale);
}

TEST(AdoptionDecision, ACompletedOneshotStaysDoneUnlessItsDefinitionChanged) {
  using v = adoption_decision::verdict;
  adoption_record done;
  done.ready = done.done = true;
  done.invocation_id = "inv";
  done.fingerprint = "aaaa";
  EXPECT_EQ(decide_adoption(done, std::nullopt, {}, "aaaa").what, v::adopt);
  EXPECT_EQ(decide_adoption(done, std::nullopt, {}, "bbbb").what, v::start);
}

TEST(AdoptionState, TheMarkerMatchesOnlyTheWholeVariable) {
  const std::string env = std::string("A=1\0INVOCATION_ID=abc\0B=2\0", 25);
  EXPECT_TRUE(environment_has_invocation(env, "abc"));
  EXPECT_FALSE(environment_has_invocation(env, "ab"));
  EXPECT_FALSE(environment_has_invocation(std::string("XINVOCATION_ID=abc\0", 19), "abc"));
  EXPECT_FALSE(environment_has_invocation(env, ""));
}

TEST(AdoptionState, AProcessIsFoundByTheInvocationIdInItsEnvironment) {
  const std::string id = "feedc0de" + std::to_string(::getpid());
  std::string var = "INVOCATION_ID=" + id;
  char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
  char* envp[] = {const_cast<char*>("PATH=/bin:/usr/bin"), var.data(), nullptr};
  pid_t pid = 0;
  posix_spawnattr_t attr;
  ASSERT_EQ(::posix_spawnattr_init(&attr), 0);
  ASSERT_EQ(::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID), 0);  // as the runtime spawns a service
  ASSERT_EQ(::posix_spawnp(&pid, "sleep", nullptr, &attr, argv, envp), 0);
  ::posix_spawnattr_destroy(&attr);
  // posix_spawn returns when the child has released the parent's memory, which the kernel does before it has
  // set up the new environment: until then /proc/PID/environ reads empty. Wait for the exec to finish.
  auto found = find_marked_processes(id, "");
  for (int i = 0; i < 500 && found.empty(); ++i) {
    ::usleep(10000);
    found = find_marked_processes(id, "");
  }
  // The store resolves an intent left by a runtime killed before it wrote the pid: the process is adopted.
  const std::string dir = ::testing::TempDir() + "/intent-" + std::to_string(::getpid());
  adoption_store store{dir};
  adoption_record r;
  r.intent = true;
  r.invocation_id = id;
  ASSERT_TRUE(store.save("svc", r));
  auto adopted = store.load_live("svc");
  r.invocation_id = "no-such-invocation";
  ASSERT_TRUE(store.save("gone", r));
  auto nothing = store.load_live("gone");
  store.remove("svc");
  store.remove("gone");
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pid, pid);
  EXPECT_TRUE(found[0].leads_session);
  EXPECT_TRUE(find_marked_processes("no-such-invocation", "").empty());
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->pid, pid);
  EXPECT_FALSE(nothing) << "an intent whose process never started: start it";
}

TEST(RestartHistory, RoundTripsAndNeedsItsBootId) {
  restart_history h;
  h.boot_id = "b00t";
  h.supervisor = {100, 101};
  h.children["web"] = child_history{4, 2, {99, 100, 101}};
  h.children["db"] = child_history{1, 0, {}};
  auto back = parse_restart_history(format_restart_history(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(parse_restart_history("supervisor=1,2\n"));
  EXPECT_FALSE(parse_restart_history("boot_id=x\nchild\tweb\tnot-a-number\t0\t\n"));
}

TEST(RestartHistory, RestoringKeepsOnlyTheCurrentWindow) {
  behaviours::restart_intensity i{{3, 10}};
  i.restore({50, 89, 95, 99, 5000}, 100);  // 50: outside the window; 5000: another clock
  EXPECT_EQ(i.history(), (std::vector<int64_t>{95, 99}));
  EXPECT_TRUE(i.add(100));
  EXPECT_FALSE(i.add(100)) << "the fourth restart in 10 s exceeds 3";
}

TEST(RestartHistory, ARestoredChildReachesItsLimitAcrossARuntimeRestart) {
  using namespace behaviours;
  auto make = [] {
    return supervisor_logic{strategy::one_for_one, {100, 60},
                            {child_spec{"crashy", restart_type::permanent, intensity_limit{3, 10}, {}}},
                            termination_order::by_dependencies, give_up_mode::degrade};
  };
  supervisor_logic first = make();
  first.start();
  for (int64_t t : {100, 101, 102}) {
    auto cmds = first.on_exit("crashy", exit_kind::abnormal, t);
    ASSERT_EQ(cmds.size(), 1u);
    EXPECT_EQ(cmds[0].what, command::kind::start);
  }
  // The runtime restarts: a new logic with what the old one kept.
  supervisor_logic second = make();
  second.start();
  second.restore_history(first.intensity_history(), {{"crashy", first.child_history("crashy")}}, 103);
  auto cmds = second.on_exit("crashy", exit_kind::abnormal, 103);
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].what, command::kind::fail) << "the fourth crash in 10 s exceeds max-restarts 3";
  // Without the history it would have been restarted.
  supervisor_logic fresh = make();
  fresh.start();
  EXPECT_EQ(fresh.on_exit("crashy", exit_kind::abnormal, 103).at(0).what, command::kind::start);
}

TEST(DefinitionFingerprint, FollowsSameDefinition) {
  service_config a = dynamod::testing::svc("web");
  service_config b = a;
  b.file = "elsewhere.toml";
  b.positions["exec"] = {3, 1};
  ASSERT_TRUE(same_definition(a, b));
  EXPECT_EQ(definition_fingerprint(a), definition_fingerprint(b));
  EXPECT_EQ(definition_fingerprint(a).size(), 16u);
  auto differs = [&](auto change) {
    service_config c = a;
    change(c);
    return definition_fingerprint(c) != definition_fingerprint(a);
  };
  EXPECT_TRUE(differs([](service_config& c) { c.exec = {"/bin/false"}; }));
  EXPECT_TRUE(differs([](service_config& c) { c.exec = {"/bin/tr", "ue"}; }));
  EXPECT_TRUE(differs([](service_config& c) { c.environment["A"] = "1"; }));
  EXPECT_TRUE(differs([](service_config& c) { c.user = "nobody"; }));
  EXPECT_TRUE(differs([](service_config& c) { c.stop_timeout = std::chrono::milliseconds{1}; }));
  EXPECT_TRUE(differs([](service_config& c) { c.memory_max.set = true; }));
  EXPECT_TRUE(differs([](service_config& c) { c.rlimits["nofile"] = 10; }));
  EXPECT_TRUE(differs([](service_config& c) { c.umask = 077u; }));
  EXPECT_TRUE(differs([](service_config& c) { c.log_keep = 9; }));
  EXPECT_FALSE(differs([](service_config& c) { c.supervisor = "mid"; })) << "its place in the tree, not its process";
  EXPECT_FALSE(differs([](service_config& c) { c.start_at_boot = false; })) << "enabling or disabling restarts nothing";
}

TEST(DefinitionFingerprint, CoversEveryFieldOfServiceConfig) {
  // A new field changes the size: add it to definition_fingerprint(), then update this number. (start_at_boot,
  // the enable state, is deliberately not part of the definition.)
  EXPECT_EQ(sizeof(service_config), 1248u)
      << "service_config changed: add the new field to definition_fingerprint()";
}
