// How the state directory's files are written: records in place (no rename, no truncation: replacing a file on
// ext4 with `discard` waits for the disk), crash-atomic within a page; and who does file work (file_io_audit).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include "runtime/io/file_io_audit.hpp"
#include "runtime/state/adoption_record.hpp"

using namespace dynamod;

namespace {

struct scratch_dir {
  std::string path;
  scratch_dir() {
    char tmpl[] = "/tmp/dynamod-records-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~scratch_dir() { std::filesystem::remove_all(path); }
};

ino_t inode_of(const std::string& path) {
  struct stat s {};
  return ::stat(path.c_str(), &s) == 0 ? s.st_ino : 0;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

adoption_record running(pid_t pid, const std::string& id, const std::string& status = "") {
  adoption_record r;
  r.pid = pid;
  r.start_time = 1234;
  r.invocation_id = id;
  r.status_text = status;
  return r;
}

}  // namespace

TEST(RecordFiles, ARecordIsRewrittenInPlaceAndAShorterOneIsPadded) {
  scratch_dir d;
  adoption_store store{d.path + "/services"};
  ASSERT_TRUE(store.save("web", running(4242, "aaaa", std::string(300, 's'))));
  const std::string file = d.path + "/services/web.state";
  const ino_t first = inode_of(file);
  ASSERT_NE(first, 0u);
  const auto long_size = std::filesystem::file_size(file);
  ASSERT_TRUE(store.save("web", running(77, "bbbb")));
  EXPECT_EQ(inode_of(file), first) << "the same file, not a renamed copy";
  EXPECT_EQ(std::filesystem::file_size(file), long_size) << "padded, not truncated";
  auto back = store.load("web");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, 77);
  EXPECT_EQ(back->invocation_id, "bbbb");
  EXPECT_EQ(back->status_text, "") << "nothing of the longer record survives the padding";
}

TEST(RecordFiles, ClearingLeavesNoRecordAndOnlyTheOwnIncarnationClears) {
  scratch_dir d;
  adoption_store store{d.path + "/services"};
  ASSERT_TRUE(store.save("web", running(4242, "mine")));
  store.remove_if("web", "someone-else");
  EXPECT_TRUE(store.load("web")) << "a newer incarnation's record stays";
  store.remove_if("web", "mine");
  EXPECT_FALSE(store.load("web"));
  EXPECT_EQ(text_of(d.path + "/services/web.state").find_first_not_of('\n'), std::string::npos);
  ASSERT_TRUE(store.save("web", running(99, "next")));
  ASSERT_TRUE(store.load("web"));
  EXPECT_EQ(store.load("web")->pid, 99);
}

TEST(RecordFiles, ARecordBeyondAPageTakesTheRenamePathAndStillReadsBack) {
  scratch_dir d;
  adoption_store store{d.path + "/services"};
  ASSERT_TRUE(store.save("web", running(4242, "big", std::string(6000, 'x'))));
  auto back = store.load("web");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status_text.size(), 6000u);
  ASSERT_TRUE(store.save("web", running(7, "small")));  // back under a page: through the rename once more
  ASSERT_TRUE(store.save("web", running(8, "small")));  // then in place
  EXPECT_EQ(store.load("web")->pid, 8);
}

TEST(RecordFiles, AHistoryIsClearedInPlace) {
  scratch_dir d;
  adoption_store store{d.path + "/services"};
  restart_history h;
  h.boot_id = current_boot_id();
  h.supervisor = {1, 2, 3};
  ASSERT_TRUE(store.save_history("root", h));
  ASSERT_TRUE(store.load_history("root"));
  store.remove_history("root");
  EXPECT_FALSE(store.load_history("root"));
}

TEST(FileIoAudit, WorkOnAThreadNotMarkedCountsAsElsewhere) {
  scratch_dir d;
  adoption_store store{d.path + "/services"};
  const auto before = file_io_audit::snapshot();
  std::thread io([&] {
    file_io_audit::allow_this_thread(true);
    store.save("web", running(1, "a"));
  });
  io.join();
  auto mid = file_io_audit::snapshot();
  EXPECT_GT(mid.on_io_threads, before.on_io_threads);
  EXPECT_EQ(mid.elsewhere, before.elsewhere);
  std::thread other([&] { store.load("web"); });
  other.join();
  auto after = file_io_audit::snapshot();
  EXPECT_EQ(after.elsewhere, before.elsewhere + 1);
  EXPECT_FALSE(after.first_elsewhere.empty());
}
