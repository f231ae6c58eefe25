#include "dbus/job_book.hpp"

#include <gtest/gtest.h>

using namespace dynamod::dbus;
using namespace std::chrono_literals;

namespace {
const job_clock::time_point t0{};
}

TEST(JobBook, AJobHasAnIdAPathAndEndsOnceWithItsResult) {
  job_book book{90s};
  auto e = book.enqueue("sshd.service", "start", t0);
  ASSERT_TRUE(e.created);
  EXPECT_EQ(e.created->id, 1u);
  EXPECT_EQ(e.created->path(), "/org/freedesktop/systemd1/job/1");
  EXPECT_FALSE(e.replaced);
  EXPECT_EQ(book.find_by_unit("sshd.service")->id, 1u);
  auto r = book.finish(1, job_outcome::done);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unit, "sshd.service");
  EXPECT_EQ(r->result, "done");
  EXPECT_EQ(r->path, "/org/freedesktop/systemd1/job/1");
  EXPECT_FALSE(book.finish(1, job_outcome::failed)) << "a job ends once";
  EXPECT_EQ(book.size(), 0u);
  EXPECT_EQ(book.find_by_unit("sshd.service"), nullptr);
}

TEST(JobBook, ANewerJobOnTheSameUnitCancelsThePendingOne) {
  job_book book{90s};
  book.enqueue("cron.service", "start", t0);
  auto e = book.enqueue("cron.service", "stop", t0 + 1s);
  ASSERT_TRUE(e.replaced);
  EXPECT_EQ(e.replaced->id, 1u);
  EXPECT_EQ(e.replaced->result, "canceled");
  EXPECT_EQ(e.created->id, 2u);
  EXPECT_EQ(book.find_by_unit("cron.service")->type, "stop");
  EXPECT_FALSE(book.finish(1, job_outcome::done)) << "the canceled job's late answer is ignored";
  EXPECT_EQ(book.size(), 1u);
}

TEST(JobBook, JobsThatOutliveTheirDeadlineEndAsTimeout) {
  job_book book{10s};
  book.enqueue("a.service", "start", t0);
  book.enqueue("b.service", "start", t0 + 5s);
  EXPECT_EQ(book.next_deadline(), t0 + 10s);
  EXPECT_TRUE(book.expire(t0 + 9s).empty());
  auto gone = book.expire(t0 + 10s);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].unit, "a.service");
  EXPECT_EQ(gone[0].result, "timeout");
  EXPECT_EQ(book.next_deadline(), t0 + 15s);
  EXPECT_EQ(book.expire(t0 + 1h).size(), 1u);
  EXPECT_FALSE(book.next_deadline());
}

TEST(JobBook, TheBookIsBoundedAndIdsSkipZeroAndThoseInUse) {
  job_book book{90s};
  for (size_t i = 0; i < job_book::kMaxJobs; ++i) {
    ASSERT_TRUE(book.enqueue("u" + std::to_string(i) + ".service", "start", t0).created);
  }
  EXPECT_FALSE(book.enqueue("one-too-many.service", "start", t0).created) << "full: refused, nothing grows";
  EXPECT_EQ(book.size(), job_book::kMaxJobs);
  auto list = book.list();
  ASSERT_EQ(list.size(), job_book::kMaxJobs);
  EXPECT_LT(list.front().id, list.back().id) << "ListJobs by id";
  for (const auto& j : list) EXPECT_NE(j.id, 0u);
}

TEST(JobBook, ResultTextsAreSystemds) {
  EXPECT_STREQ(job_result_text(job_outcome::done), "done");
  EXPECT_STREQ(job_result_text(job_outcome::dependency), "dependency");
  EXPECT_STREQ(job_result_text(job_outcome::unsupported), "unsupported");
}
