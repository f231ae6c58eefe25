#include "runtime/config/config_loader.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "runtime/config/config_parser.hpp"
#include "test/runtime/config_builders.hpp"

using namespace dynamod;
using dynamod::testing::sup;
using dynamod::testing::svc;

namespace {

std::string errors_of(const config_tree& t) {
  std::string out;
  for (const auto& e : t.errors) out += e.describe() + "\n";
  return out;
}

}  // namespace

TEST(ConfigTree, RootSupervisorIsImplicit) {
  auto t = check_config_tree({svc("a")}, {}, {});
  ASSERT_EQ(t.supervisors.size(), 1u);
  EXPECT_EQ(t.supervisors[0].name, "root");
  EXPECT_EQ(t.services.size(), 1u);
}

TEST(ConfigTree, UnknownSupervisorDisablesTheService) {
  auto t = check_config_tree({svc("a", {}, "nowhere"), svc("b")}, {}, {});
  EXPECT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.disabled.at("a"), "supervisor 'nowhere' is unavailable");
  EXPECT_EQ(errors_of(t), "a.toml: service.supervisor: unknown supervisor 'nowhere'\n");
}

TEST(ConfigTree, UnknownRequirementIsAnErrorAndDisablesTheDependent) {
  auto t = check_config_tree({svc("app", {"db"})}, {}, {});
  EXPECT_TRUE(t.services.empty());
  EXPECT_EQ(t.disabled.at("app"), "requires unknown service 'db'");
  EXPECT_EQ(errors_of(t), "app.toml: dependencies.requires: unknown service 'db'\n");
}

TEST(ConfigTree, ABrokenServiceDisablesItsDependentsTransitively) {
  auto t = check_config_tree({svc("app", {"db"}), svc("ui", {"app"}), svc("other")}, {}, {},
                             {{"db", "its file db.toml has errors"}});
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "other");
  EXPECT_EQ(t.disabled.at("app"), "requires 'db', which is disabled (its file db.toml has errors)");
  EXPECT_EQ(t.disabled.at("ui").rfind("requires 'app', which is disabled", 0), 0u);
}

TEST(ConfigTree, CyclesAreRejectedWithTheCyclePrinted) {
  auto t = check_config_tree({svc("a", {"b"}), svc("b", {"a"}), svc("c", {"a"}), svc("d")}, {}, {});
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "d");
  EXPECT_EQ(t.disabled.at("a"), "on a dependency cycle of 2 services (see a.toml)");
  EXPECT_EQ(t.disabled.at("b"), "on a dependency cycle of 2 services (see a.toml)");
  EXPECT_EQ(errors_of(t), "a.toml: dependencies: dependency cycle of 2 services: a -> b -> a\n");
  EXPECT_EQ(t.disabled.at("c").rfind("requires 'a', which is disabled (on a dependency cycle", 0), 0u);
}

// A ring of 2000 services printed 68 MB: each member's error held the whole ring. Now one error per cycle,
// bounded, and a total when there are several.
TEST(ConfigTree, ALongRingIsReportedOnceWithABoundedText) {
  std::vector<service_config> ring;
  const int n = 2000;
  auto name = [](int i) { return "s" + std::to_string(10000 + i); };
  for (int i = 0; i < n; ++i) ring.push_back(svc(name(i), {name((i + 1) % n)}));
  ring.push_back(svc("x", {"y"}));
  ring.push_back(svc("y", {"x"}));
  auto t = check_config_tree(std::move(ring), {}, {});
  EXPECT_TRUE(t.services.empty());
  ASSERT_EQ(t.errors.size(), 3u) << errors_of(t).substr(0, 2000);
  const std::string text = errors_of(t);
  EXPECT_LT(text.size(), 600u) << text;
  EXPECT_NE(text.find("s10000.toml: dependencies: dependency cycle of 2000 services: s10000 -> s10001 -> s10002 -> "
                      "s10003 -> s10004 -> s10005 -> s10006 -> ... (1993 more) -> s10000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("x.toml: dependencies: dependency cycle of 2 services: x -> y -> x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2 dependency cycles in all, 2002 services disabled by them"), std::string::npos) << text;
  size_t disabled_text = 0;
  for (const auto& [svc_name, why] : t.disabled) disabled_text += why.size();
  EXPECT_LT(disabled_text, 2002u * 80) << "each disabled service's reason stays short";
}

TEST(ConfigTree, DuplicateNamesKeepTheFirst) {
  auto a1 = svc("a");
  auto a2 = svc("a");
  a2.file = "other.toml";
  auto t = check_config_tree({a1, a2}, {}, {});
  EXPECT_EQ(t.services.size(), 1u);
  EXPECT_EQ(errors_of(t), "other.toml: service.name: service 'a' is already defined in a.toml\n");
}

TEST(ConfigTree, SupervisorWithUnknownParentTakesItsServicesDown) {
  auto t = check_config_tree({svc("a", {}, "mid"), svc("b", {}, "low")}, {sup("mid", "ghost"), sup("low", "mid")}, {});
  EXPECT_TRUE(t.services.empty());
  EXPECT_EQ(t.supervisors.size(), 1u);
  EXPECT_EQ(errors_of(t).find("mid.toml: supervisor.parent: unknown supervisor 'ghost'"), 0u);
}

TEST(ConfigTree, ReadsADirectoryAndSkipsOnlyTheBrokenFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("dynamod-tree-" + std::to_string(::getpid()));
  fs::create_directories(dir / "services");
  fs::create_directories(dir / "supervisors");
  std::ofstream(dir / "services" / "good.toml") << "[service]\nname = \"good\"\nexec = [\"/bin/true\"]\n";
  std::ofstream(dir / "services" / "bad.toml") << "[service]\nname = \"bad\"\n";
  std::ofstream(dir / "services" / "needs-bad.toml")
      << "[service]\nname = \"needs-bad\"\nexec = [\"/bin/true\"]\n[dependencies]\nrequires = [\"bad\"]\n";
  std::ofstream(dir / "services" / "notes.txt") << "ignored";
  std::ofstream(dir / "supervisors" / "web.toml") << "[supervisor]\nname = \"web\"\nstrategy = \"one-for-all\"\n";
  auto t = load_config_tree(dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "good");
  ASSERT_EQ(t.supervisors.size(), 2u);
  EXPECT_EQ(t.supervisors[1].strategy, supervisor_strategy::one_for_all);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_NE(t.errors[0].describe().find("bad.toml:1:1: service.exec: required key is missing"), std::string::npos);
  EXPECT_EQ(t.disabled.at("needs-bad").rfind("requires 'bad', which is disabled", 0), 0u);
}

TEST(ConfigTree, AServiceMarkedManualIsNotStartedAtBoot) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("dynamod-manual-" + std::to_string(::getpid()));
  fs::create_directories(dir / "services");
  fs::create_directories(dir / "manual");
  for (const char* name : {"a", "b", "c"}) {
    std::ofstream(dir / "services" / (std::string(name) + ".toml"))
        << "[service]\nname = \"" << name << "\"\nexec = [\"/bin/true\"]\n";
  }
  fs::create_symlink("/dev/null", dir / "manual" / "b");  // systemctl disable b
  std::ofstream(dir / "manual" / "c");                     // any file does
  fs::create_symlink("/nonexistent", dir / "manual" / "nosuch");
  // d starts at boot and wants e, which requires c: both disabled ones are pulled in (systemd's Wants=/Requires=).
  std::ofstream(dir / "services" / "d.toml") << "[service]\nname = \"d\"\nexec = [\"/bin/true\"]\n"
                                             << "[dependencies]\nwants = [\"e\"]\n";
  std::ofstream(dir / "services" / "e.toml") << "[service]\nname = \"e\"\nexec = [\"/bin/true\"]\n"
                                             << "[dependencies]\nrequires = [\"c\"]\n";
  fs::create_symlink("/dev/null", dir / "manual" / "e");
  auto t = load_config_tree(dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(t.services.size(), 5u);
  EXPECT_TRUE(t.errors.empty());
  std::map<std::string, bool> at_boot, enabled;
  for (const auto& s : t.services) {
    at_boot[s.name] = s.start_at_boot;
    enabled[s.name] = s.enabled;
  }
  EXPECT_EQ(at_boot, (std::map<std::string, bool>{{"a", true}, {"b", false}, {"c", true}, {"d", true}, {"e", true}}));
  EXPECT_EQ(enabled, (std::map<std::string, bool>{{"a", true}, {"b", false}, {"c", false}, {"d", true}, {"e", false}}));
}

TEST(ConfigTree, TheShippedDemoConfigurationIsValid) {
  auto t = load_config_tree(std::string{DYNAMOD_SOURCE_DIR} + "/etc/dynamod");
  EXPECT_TRUE(t.errors.empty()) << errors_of(t);
  EXPECT_GE(t.services.size(), 4u);
}

// Every file or directory the loader cannot use is an error naming the path and the reason; none is skipped
// silently, and none can make the loader hang (a FIFO) or read without bound (/dev/zero).
class ConfigTreeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("dynamod-files-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "services");
    std::filesystem::create_directories(dir / "supervisors");
    write("good", "[service]\nname = \"good\"\nexec = [\"/bin/true\"]\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir / "services" / (name + ".toml")) << text; }
  std::string errors() { return errors_of(load_config_tree(dir.string())); }
  std::filesystem::path dir;
};

TEST_F(ConfigTreeFiles, ADanglingSymlinkIsAnError) {
  std::filesystem::create_symlink(dir / "nowhere.toml", dir / "services" / "gone.toml");
  auto t = load_config_tree(dir.string());
  EXPECT_EQ(errors_of(t), (dir / "services" / "gone.toml").string() +
                              ": cannot read the file: dangling symbolic link: No such file or directory\n");
  EXPECT_EQ(t.services.size(), 1u) << "the rest still loads";
}

TEST_F(ConfigTreeFiles, ASymlinkLoopIsAnError) {
  std::filesystem::create_symlink(dir / "services" / "loop.toml", dir / "services" / "loop.toml");
  EXPECT_EQ(errors(), (dir / "services" / "loop.toml").string() +
                          ": cannot read the file: Too many levels of symbolic links\n");
}

TEST_F(ConfigTreeFiles, ADirectoryNamedLikeAFileIsAnError) {
  std::filesystem::create_directories(dir / "services" / "x.toml");
  EXPECT_EQ(errors(), (dir / "services" / "x.toml").string() + ": cannot read the file: is a directory\n");
}

TEST_F(ConfigTreeFiles, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir / "services" / "pipe.toml").c_str(), 0644), 0);
  EXPECT_EQ(errors(), (dir / "services" / "pipe.toml").string() + ": cannot read the file: not a regular file\n");
}

TEST_F(ConfigTreeFiles, AnEndlessDeviceIsRefused) {
  std::filesystem::create_symlink("/dev/zero", dir / "services" / "zero.toml");
  EXPECT_EQ(errors(), (dir / "services" / "zero.toml").string() + ": cannot read the file: not a regular file\n");
}

TEST_F(ConfigTreeFiles, AnOversizedFileIsRefusedBeforeParsing) {
  write("huge", std::string(2 << 20, '#'));
  EXPECT_EQ(errors(), (dir / "services" / "huge.toml").string() +
                          ": cannot read the file: the file is too large (2097152 bytes; at most 1048576)\n");
}

TEST_F(ConfigTreeFiles, ServicesBeingAFileIsAnError) {
  std::filesystem::remove_all(dir / "services");
  std::ofstream(dir / "services") << "oops";
  EXPECT_EQ(errors(), (dir / "services").string() + ": cannot read the directory: Not a directory\n");
}

TEST_F(ConfigTreeFiles, AMissingConfigurationDirectoryIsAnError) {
  auto t = load_config_tree((dir / "typo").string());
  EXPECT_EQ(errors_of(t), (dir / "typo").string() +
                              ": cannot read the configuration directory: No such file or directory\n");
}

TEST_F(ConfigTreeFiles, MissingSubdirectoriesAreEmptyNotErrors) {
  std::filesystem::remove_all(dir / "supervisors");
  EXPECT_EQ(errors(), "");
}

TEST_F(ConfigTreeFiles, HiddenFilesAreIgnored) {
  // Editors' lock files (Emacs: .#web.toml, a dangling symlink) must not break a boot.
  std::filesystem::create_symlink("user@host.1234", dir / "services" / ".#good.toml");
  EXPECT_EQ(errors(), "");
}

TEST_F(ConfigTreeFiles, ADependentOfAnUnreadableFileSaysWhichFileAndWhy) {
  std::filesystem::create_symlink(dir / "nowhere.toml", dir / "services" / "db.toml");
  write("app", "[service]\nname = \"app\"\nexec = [\"/bin/true\"]\n[dependencies]\nrequires = [\"db\"]\n");
  auto t = load_config_tree(dir.string());
  EXPECT_EQ(t.disabled.at("app"), "requires 'db', which is disabled (its file " + (dir / "services" / "db.toml").string() +
                                      " cannot be read (dangling symbolic link: No such file or directory))");
  EXPECT_EQ(errors_of(t).find("unknown service"), std::string::npos) << errors_of(t);
}

TEST_F(ConfigTreeFiles, AFileNameWithControlCharactersIsEscapedInMessages) {
  std::ofstream(dir / "services" / "a\nFORGED\033[2J.toml") << "[service]\nname = \"a\"\n";
  const std::string text = errors();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("a\\nFORGED\\e[2J.toml:1:1: service.exec: required key is missing"), std::string::npos) << text;
  EXPECT_EQ(text.find('\033'), std::string::npos);
}

// The original dynamod's format as its shipped trees use it (see original-format/README.md).
TEST(ConfigTree, TheOriginalDynamodFormatLoadsUnchanged) {
  auto t = load_config_tree(std::string{DYNAMOD_SOURCE_DIR} + "/test/runtime/original-format");
  EXPECT_EQ(errors_of(t), "");
  EXPECT_TRUE(t.disabled.empty());
  EXPECT_EQ(t.services.size(), 10u);
  ASSERT_EQ(t.supervisors.size(), 3u);
  EXPECT_EQ(t.supervisors[0].max_restarts, 20);
  auto find = [&](const std::string& name) -> const service_config& {
    for (const auto& s : t.services) {
      if (s.name == name) return s;
    }
    throw std::runtime_error("no " + name);
  };
  const auto& web = find("web");
  EXPECT_EQ(web.namespaces, std::vector<std::string>{"pid"});
  EXPECT_TRUE(web.private_tmp);
  EXPECT_EQ(web.stop_signal, 3);  // SIGQUIT
  EXPECT_EQ(web.memory_max.bytes, 512u << 20);
  const auto& db = find("db");
  ASSERT_EQ(db.bind_mounts.size(), 2u);
  EXPECT_TRUE(db.bind_mounts[0].writable);
  EXPECT_EQ(db.environment.at("LC_ALL"), "C.UTF-8");
  EXPECT_EQ(db.max_restart_window, std::chrono::milliseconds{120000});
  EXPECT_EQ(find("seats").supervisor, "session");
  EXPECT_EQ(find("console").stop_signal, 1);  // SIGHUP
}

TEST(ConfigTree, SupervisorNestingIsBounded) {
  std::vector<supervisor_config> chain;
  for (int i = 0; i < 40; ++i) chain.push_back(sup("s" + std::to_string(i), i == 0 ? "root" : "s" + std::to_string(i - 1)));
  auto t = check_config_tree({svc("deep", {}, "s39"), svc("shallow", {}, "s5")}, chain, {});
  ASSERT_EQ(t.services.size(), 1u);
  EXPECT_EQ(t.services[0].name, "shallow");
  EXPECT_EQ(t.supervisors.size(), 1u + 32u) << "root and s0 (1 level below root) .. s31 (32 levels)";
  EXPECT_NE(errors_of(t).find("s32.toml: supervisor.parent: supervisors are nested more than 32 levels below root"),
            std::string::npos)
      << errors_of(t);
}

// A disabled requirement's reason nested the requirement's own reason: a chain of thousands grew quadratically
// (320 MB of text for 4000). Each reason now names its requirement and the root cause once.
TEST(ConfigTree, AChainOfDisabledServicesHasShortReasons) {
  std::vector<service_config> chain;
  const int n = 5000;
  auto name = [](int i) { return "c" + std::to_string(100000 - i); };  // dependents sort before requirements
  for (int i = 0; i + 1 < n; ++i) chain.push_back(svc(name(i), {name(i + 1)}));
  auto t = check_config_tree(std::move(chain), {}, {}, {{name(n - 1), "its file c.toml has errors"}});
  EXPECT_TRUE(t.services.empty());
  ASSERT_EQ(t.disabled.size(), static_cast<size_t>(n));
  size_t text = 0;
  for (const auto& [svc_name, why] : t.disabled) text += why.size();
  EXPECT_LT(text, static_cast<size_t>(n) * 80);
  EXPECT_EQ(t.disabled.at(name(0)), "requires '" + name(1) + "', which is disabled (its file c.toml has errors)");
}
