#include "runtime/config/config_parser.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace dynamod;
using namespace std::chrono_literals;

namespace {

struct broken_case {
  const char* name;
  const char* text;
  const char* expected;
};

void PrintTo(const broken_case& c, std::ostream* os) { *os << c.name; }

const broken_case kBroken[] = {
#include "config_cases.inc"
};

class BrokenServiceFile : public ::testing::TestWithParam<broken_case> {};

std::string all_errors(const config_errors& errors) {
  std::string out;
  for (const auto& e : errors) out += e.describe() + "\n";
  return out;
}

}  // namespace

TEST_P(BrokenServiceFile, IsRejectedWithALocatedMessage) {
  const broken_case& c = GetParam();
  config_errors errors;
  EXPECT_FALSE(parse_service(c.text, "t.toml", errors).has_value());
  ASSERT_EQ(errors.size(), 1u) << all_errors(errors);
  EXPECT_EQ(errors[0].describe(), c.expected);
}

INSTANTIATE_TEST_SUITE_P(ConfigValidation, BrokenServiceFile, ::testing::ValuesIn(kBroken),
                         [](const auto& info) { return std::string{info.param.name}; });

TEST(ConfigValidation, AtLeastThirtyBrokenFilesAreCovered) { EXPECT_GE(std::size(kBroken), 30u); }

TEST(ConfigValidation, EveryProblemInAFileIsReported) {
  config_errors errors;
  parse_service("[service]\nname = 1\nexec = \"x\"\nbogus = true\n", "t.toml", errors);
  EXPECT_EQ(errors.size(), 3u) << all_errors(errors);
}

TEST(ConfigValidation, EveryKeyOfTheSchemaIsRead) {
  const char* text = R"([service]
name = "web"
supervisor = "frontends"
exec = ["/usr/sbin/nginx", "-g", "daemon off;"]
workdir = "/srv"
type = "notify"
environment = { LANG = "C.UTF-8", MODE = "prod" }
environment-file = "/etc/default/web"

[service.user]
user = "www-data"
group = "www-data"
supplementary-groups = ["adm"]

[restart]
policy = "transient"
delay = "2s"
max-restarts = 7
max-restart-window = "2m"
backoff = "30s"

[readiness]
type = "notify"
timeout = "20s"
watchdog = "15s"

[dependencies]
requires = ["network"]
wants = ["syslog"]
after = ["time-sync"]
before = ["frontend"]

[cgroup]
memory-max = "512M"
memory-high = "400M"
memory-swap-max = "max"
cpu-weight = 200
cpu-max = "50000 100000"
pids-max = 128
io-weight = 50
io-max = ["8:0 rbps=1048576"]

[namespace]
enable = ["mnt", "uts", "pid"]
bind-mounts = [{ source = "/srv/data", target = "/data", writable = true }]
private-tmp = true
protect-system = "full"
hostname = "web"
read-only-paths = ["/etc"]
inaccessible-paths = ["/root"]

[shutdown]
stop-signal = "QUIT"
stop-timeout = "15s"
stop-exec = ["/usr/sbin/nginx", "-s", "quit"]

[security]
no-new-privileges = true
capabilities = ["CAP_NET_BIND_SERVICE"]
ambient-capabilities = ["cap_net_bind_service"]
seccomp-deny = ["@mount", "ptrace"]
seccomp-action = "kill"
rlimits = { nofile = 65536, core = "infinity" }
umask = "027"

[log]
file = "/var/log/web.log"
max-size = "2M"
keep = 5
)";
  config_errors errors;
  auto s = parse_service(text, "web.toml", errors);
  ASSERT_TRUE(s.has_value()) << all_errors(errors);
  EXPECT_EQ(s->name, "web");
  EXPECT_EQ(s->supervisor, "frontends");
  EXPECT_EQ(s->exec.size(), 3u);
  EXPECT_EQ(s->workdir, "/srv");
  EXPECT_EQ(s->type, service_type::notify);
  EXPECT_EQ(s->environment.at("MODE"), "prod");
  EXPECT_EQ(s->environment_file, "/etc/default/web");
  EXPECT_EQ(s->user, "www-data");
  EXPECT_EQ(s->group, "www-data");
  EXPECT_EQ(s->supplementary_groups, std::vector<std::string>{"adm"});
  EXPECT_EQ(s->restart, restart_policy::transient);
  EXPECT_EQ(s->restart_delay, 2s);
  EXPECT_EQ(s->max_restarts, 7);
  EXPECT_EQ(s->max_restart_window, 120s);
  EXPECT_TRUE(s->backoff);
  EXPECT_EQ(s->backoff_max, 30s);
  EXPECT_EQ(s->readiness, readiness_type::notify);
  EXPECT_EQ(s->start_timeout, 20s);
  EXPECT_EQ(s->watchdog, 15s);
  EXPECT_EQ(s->requires_, std::vector<std::string>{"network"});
  EXPECT_EQ(s->wants, std::vector<std::string>{"syslog"});
  EXPECT_EQ(s->after, std::vector<std::string>{"time-sync"});
  EXPECT_EQ(s->before, std::vector<std::string>{"frontend"});
  EXPECT_EQ(s->memory_max.bytes, 512u << 20);
  EXPECT_EQ(s->memory_high.bytes, 400u << 20);
  EXPECT_TRUE(s->memory_swap_max.is_max);
  EXPECT_EQ(s->cpu_weight, 200);
  EXPECT_EQ(s->cpu_max, "50000 100000");
  EXPECT_EQ(s->pids_max, 128);
  EXPECT_EQ(s->io_weight, 50);
  EXPECT_EQ(s->io_max.size(), 1u);
  EXPECT_EQ(s->namespaces.size(), 3u);
  ASSERT_EQ(s->bind_mounts.size(), 1u);
  EXPECT_TRUE(s->bind_mounts[0].writable);
  EXPECT_TRUE(s->private_tmp);
  EXPECT_EQ(s->protect_system, "full");
  EXPECT_EQ(s->hostname, "web");
  EXPECT_EQ(s->read_only_paths, std::vector<std::string>{"/etc"});
  EXPECT_EQ(s->inaccessible_paths, std::vector<std::string>{"/root"});
  EXPECT_EQ(s->stop_signal, 3);
  EXPECT_EQ(s->stop_timeout, 15s);
  EXPECT_EQ(s->stop_exec.size(), 3u);
  EXPECT_TRUE(s->no_new_privileges);
  EXPECT_EQ(s->capabilities->size(), 1u);
  EXPECT_EQ(s->ambient_capabilities.size(), 1u);
  EXPECT_EQ(s->seccomp_deny.size(), 2u);
  EXPECT_TRUE(s->seccomp_kill);
  EXPECT_EQ(s->rlimits.at("nofile"), 65536);
  EXPECT_EQ(s->rlimits.at("core"), -1);
  EXPECT_EQ(s->umask, 027u);
  EXPECT_EQ(s->log_file, "/var/log/web.log");
  EXPECT_EQ(s->log_max_size, 2u << 20);
  EXPECT_EQ(s->log_keep, 5);
}

TEST(ConfigValidation, DefaultsFollowTheDynamodSchema) {
  config_errors errors;
  auto s = parse_service("[service]\nname = \"a\"\nexec = [\"/bin/true\"]\n", "a.toml", errors);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->supervisor, "root");
  EXPECT_EQ(s->type, service_type::simple);
  EXPECT_EQ(s->restart, restart_policy::permanent);
  EXPECT_EQ(s->restart_delay, 1s);
  EXPECT_EQ(s->max_restarts, 5);
  EXPECT_EQ(s->max_restart_window, 60s);
  EXPECT_EQ(s->readiness, readiness_type::none);
  EXPECT_EQ(s->start_timeout, 30s);
  EXPECT_EQ(s->stop_signal, 15);
  EXPECT_EQ(s->stop_timeout, 10s);
}

TEST(ConfigValidation, BareNumbersAreSecondsAndSignalsTakeThreeSpellings) {
  config_errors errors;
  auto s = parse_service(
      "[service]\nname = \"a\"\nexec = [\"/bin/true\"]\n[restart]\ndelay = 0.25\n[shutdown]\nstop-signal = 1\n",
      "a.toml", errors);
  ASSERT_TRUE(s) << all_errors(errors);
  EXPECT_EQ(s->restart_delay, 250ms);
  EXPECT_EQ(s->stop_signal, 1);
}

TEST(ConfigValidation, NotifyTypeImpliesNotifyReadiness) {
  config_errors errors;
  auto s = parse_service("[service]\nname = \"a\"\nexec = [\"/bin/true\"]\ntype = \"notify\"\n", "a.toml", errors);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->readiness, readiness_type::notify);
  EXPECT_EQ(s->notify_access_mode, notify_access::main);  // systemd's default for Type=notify
}

TEST(ConfigValidation, NotifyAccessReadsEachValue) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, notify_access>>{
           {"none", notify_access::none}, {"main", notify_access::main}, {"exec", notify_access::exec},
           {"all", notify_access::all}}) {
    config_errors errors;
    auto s = parse_service("[service]\nname = \"a\"\nexec = [\"/bin/true\"]\n[readiness]\nnotify-access = \"" + text + "\"\n",
                           "a.toml", errors);
    ASSERT_TRUE(s) << all_errors(errors);
    EXPECT_EQ(s->notify_access_mode, want);
    EXPECT_EQ(to_string(s->notify_access_mode), text);
  }
}

TEST(SupervisorValidation, ReadsEveryKey) {
  config_errors errors;
  auto s = parse_supervisor(
      "[supervisor]\nname = \"frontends\"\nparent = \"web\"\nstrategy = \"rest-for-one\"\n[restart]\nmax-restarts = 3\n"
      "max-restart-window = \"60s\"\n",
      "f.toml", errors);
  ASSERT_TRUE(s) << all_errors(errors);
  EXPECT_EQ(s->parent, "web");
  EXPECT_EQ(s->strategy, supervisor_strategy::rest_for_one);
  EXPECT_EQ(s->max_restarts, 3);
  EXPECT_EQ(s->max_restart_window, 60s);
}

TEST(SupervisorValidation, DefaultsAreOneForOneTenInFiveMinutes) {
  config_errors errors;
  auto s = parse_supervisor("[supervisor]\nname = \"x\"\n", "x.toml", errors);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->parent, "root");
  EXPECT_EQ(s->strategy, supervisor_strategy::one_for_one);
  EXPECT_EQ(s->max_restarts, 10);
  EXPECT_EQ(s->max_restart_window, 300s);
}

TEST(SupervisorValidation, TheRootGivesUpByDegradingUnlessToldOtherwise) {
  config_errors errors;
  auto s = parse_supervisor("[supervisor]\nname = \"root\"\n", "root.toml", errors);
  ASSERT_TRUE(s) << all_errors(errors);
  EXPECT_EQ(s->give_up, give_up_action::degrade);
  for (auto [text, action] : {std::pair{"poweroff", give_up_action::poweroff}, std::pair{"reboot", give_up_action::reboot},
                              std::pair{"emergency", give_up_action::emergency},
                              std::pair{"degrade", give_up_action::degrade}}) {
    auto r = parse_supervisor(std::string{"[supervisor]\nname = \"root\"\ngive-up = \""} + text + "\"\n", "root.toml",
                              errors);
    ASSERT_TRUE(r) << all_errors(errors);
    EXPECT_EQ(r->give_up, action) << text;
    EXPECT_STREQ(to_string(r->give_up), text);
  }
}

TEST(SupervisorValidation, BadValuesAreLocated) {
  struct c {
    const char* text;
    const char* expected;
  } cases[] = {
      {"[supervisor]\nname = \"x\"\nstrategy = \"one-for-none\"\n",
       "s.toml:3:12: supervisor.strategy: 'one-for-none' is not one of \"one-for-one\", \"one-for-all\", \"rest-for-one\", "
       "\"simple-one-for-one\""},
      {"[supervisor]\nname = \"x\"\n[restart]\nmax-restarts = \"3\"\n",
       "s.toml:4:16: restart.max-restarts: expected an integer, got a string"},
      {"[restart]\nmax-restarts = 3\n", "s.toml:1:1: supervisor: the [supervisor] table is missing"},
      {"[supervisor]\nname = \"root\"\nparent = \"x\"\n", "s.toml:3:10: supervisor.parent: the root supervisor has no parent"},
      {"[supervisor]\nname = \"root\"\ngive-up = \"halt\"\n",
       "s.toml:3:11: supervisor.give-up: 'halt' is not one of \"degrade\", \"poweroff\", \"reboot\", \"emergency\""},
      {"[supervisor]\nname = \"mid\"\ngive-up = \"degrade\"\n",
       "s.toml:3:11: supervisor.give-up: only the root supervisor has this setting: a supervisor that gives up "
       "escalates to its parent (OTP)"},
  };
  for (const auto& t : cases) {
    config_errors errors;
    EXPECT_FALSE(parse_supervisor(t.text, "s.toml", errors));
    ASSERT_EQ(errors.size(), 1u) << all_errors(errors);
    EXPECT_EQ(errors[0].describe(), t.expected);
  }
}

// toml++ 3.3 recurses per dotted-key part, table-header part and nesting level without a limit: these files
// overflowed the stack of `dynamod-runtime --check`, of the runtime at boot and of `reload` (SIGSEGV).
TEST(ConfigLimits, KeysAndHeadersOfThousandsOfPartsAreRefusedNotParsed) {
  std::string key = "a";
  for (int i = 0; i < 35000; ++i) key += ".a";
  for (const std::string& text : {key + " = 1\n", "[" + key + "]\n", "[[" + key + "]]\n",
                                  "x = { " + key + " = 1 }\n"}) {
    config_errors errors;
    EXPECT_FALSE(parse_service(text, "deep.toml", errors).has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].describe().find("deep.toml:1:"), std::string::npos) << errors[0].describe();
    EXPECT_NE(errors[0].message.find("more than 32 dotted parts"), std::string::npos) << errors[0].message;
  }
}

TEST(ConfigLimits, DeepNestingIsRefusedNotParsed) {
  for (const std::string& text : {"x = " + std::string(100000, '['), "x = " + std::string(50000, '{'),
                                  [] {
                                    std::string s = "x = ";
                                    for (int i = 0; i < 20000; ++i) s += "{ a = [";
                                    return s;
                                  }()}) {
    config_errors errors;
    EXPECT_FALSE(parse_supervisor(text, "deep.toml", errors).has_value());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("nested more than 32 deep"), std::string::npos) << errors[0].message;
  }
}

TEST(ConfigLimits, ALargeFileIsRefusedWithItsSize) {
  config_errors errors;
  EXPECT_FALSE(parse_service(std::string((1 << 20) + 1, '\n'), "big.toml", errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].describe(),
            "big.toml: the file is too large (1048577 bytes; a configuration file may have at most 1048576)");
}

TEST(ConfigLimits, StringsAndCommentsDoNotCountAsStructure) {
  // Dots and brackets inside strings, multi-line strings and comments are text, not keys or nesting.
  const std::string dots(200, '.'), brackets(200, '[');
  const std::string text = "# " + dots + brackets + "\n[service]\nname = \"a\"\nexec = [\"/bin/echo\", \"" + dots +
                           brackets + "\", '" + dots + "', \"\"\"\n" + brackets + "\n\"\"\", '''" + dots + "''']\n" +
                           "environment = { \"" + dots + "\" = \"x\\\"" + brackets + "\" }\n";
  config_errors errors;
  auto s = parse_service(text, "t.toml", errors);
  ASSERT_TRUE(s.has_value()) << (errors.empty() ? "" : errors[0].describe());
  EXPECT_EQ(s->exec.size(), 5u);
}

TEST(ConfigLimits, WithinTheBoundsDottedKeysAndNestingStillWork) {
  std::string key = "x";
  for (int i = 0; i < 30; ++i) key += ".x";
  config_errors errors;
  auto s = parse_supervisor("[supervisor]\nname = \"s\"\n", "s.toml", errors);
  EXPECT_TRUE(s.has_value());
  EXPECT_FALSE(parse_service("[service]\nname=\"a\"\nexec=[\"/bin/true\"]\n" + key + " = [[[[1]]]]\n", "t.toml", errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "unknown key") << "parsed, then rejected as an unknown key, not as too deep";
}

// The docs say pid implies mnt, and the original dynamod's nginx.toml is written so.
TEST(ConfigValidation, MountOptionsWithOnlyAPidNamespaceAreAccepted) {
  config_errors errors;
  auto s = parse_service(
      "[service]\nname = \"nginx\"\nexec = [\"/usr/sbin/nginx\", \"-g\", \"daemon off;\"]\n[namespace]\n"
      "enable = [\"pid\"]\nprivate-tmp = true\nprotect-system = \"full\"\n"
      "bind-mounts = [{ source = \"/srv\", target = \"/srv\" }]\n",
      "nginx.toml", errors);
  ASSERT_TRUE(s.has_value()) << (errors.empty() ? "" : errors[0].describe());
  EXPECT_TRUE(s->private_tmp);
}

TEST(ConfigValidation, ProgramsAreAbsoluteOrBareNamesAndHostsAreAddresses) {
  config_errors errors;
  auto s = parse_service(
      "[service]\nname = \"a\"\nexec = [\"sleep\", \"1\"]\n[readiness]\ntype = \"tcp-port\"\nport = 80\n"
      "host = \"::1\"\n[shutdown]\nstop-exec = [\"/bin/kill\", \"-TERM\", \"1\"]\n",
      "t.toml", errors);
  ASSERT_TRUE(s.has_value()) << (errors.empty() ? "" : errors[0].describe());
  EXPECT_EQ(s->host, "::1");
  EXPECT_EQ(s->exec[0], "sleep");
}

// Every NUL once with its full key path made a sub-megabyte file cost gigabytes (a long key times thousands of
// elements): the first one is reported, with a bounded key path.
TEST(ConfigLimits, ThousandsOfNulStringsUnderALongKeyGiveOneBoundedError) {
  std::string text = std::string(100000, 'k') + " = [";
  for (int i = 0; i < 20000; ++i) text += "\"\\u0000\",";
  text += "]\n";
  config_errors errors;
  EXPECT_FALSE(parse_service(text, "t.toml", errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "a string must not contain a NUL character");
  EXPECT_LE(errors[0].key.size(), 203u);
  EXPECT_EQ(errors[0].line, 1);
}
