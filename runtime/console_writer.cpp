#include "runtime/console_writer.hpp"

#include <cerrno>
#include <pthread.h>
#include <unistd.h>

namespace dynamod {

namespace {

bool write_all(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // the console is gone: best effort
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

console_writer::console_writer(size_t max_queued_bytes)
    : s_(std::make_shared<shared>(max_queued_bytes)), thread_(run, s_) {}

console_writer::~console_writer() {
  const bool drained = flush(exit_drain_limit);
  {
    std::lock_guard<std::mutex> guard{s_->mutex};
    s_->stop = true;
    s_->queue.clear();  // what the drain limit left: a console that slow gets no more
  }
  s_->wake.notify_one();
  if (drained) {
    thread_.join();
  } else {
    thread_.detach();  // blocked in write(2) on a console nobody reads: it ends with the process
  }
}

void console_writer::write(int fd, std::string line) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard{s_->mutex};
    was_empty = s_->queue.empty();
    s_->queued_bytes += line.size();
    s_->queue.push_back({fd, std::move(line)});
    while (s_->queued_bytes > s_->max_queued_bytes && s_->queue.size() > 1) {
      s_->queued_bytes -= s_->queue.front().text.size();
      s_->last_dropped_fd = s_->queue.front().fd;
      s_->queue.pop_front();
      ++s_->dropped;
      ++s_->dropped_unreported;
    }
  }
  // A busy writer takes what is queued when it is done: a burst of lines is one wake-up, not one each.
  if (was_empty) s_->wake.notify_one();
}

bool console_writer::flush(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{s_->mutex};
  const auto done = [this] { return s_->queue.empty() && !s_->writing; };
  if (s_->gave_up) return done();
  if (s_->drained.wait_for(lock, limit, done)) return true;
  s_->gave_up = true;
  return false;
}

uint64_t console_writer::dropped() const {
  std::lock_guard<std::mutex> guard{s_->mutex};
  return s_->dropped;
}

void console_writer::run(std::shared_ptr<shared> s) {
  ::pthread_setname_np(::pthread_self(), "console");
  std::unique_lock<std::mutex> lock{s->mutex};
  for (;;) {
    s->wake.wait(lock, [&] { return s->stop || !s->queue.empty(); });
    if (s->stop) return;
    std::string notice;
    int notice_fd = -1;
    if (s->dropped_unreported > 0) {
      notice = "[  ..  ] " + std::to_string(s->dropped_unreported) +
               " console line(s) dropped: the console is slower than the runtime (runtime.log has the log)\n";
      notice_fd = s->last_dropped_fd;
      s->dropped_unreported = 0;
    }
    std::deque<pending> batch;
    batch.swap(s->queue);
    s->queued_bytes = 0;
    s->writing = true;
    lock.unlock();
    if (notice_fd >= 0) write_all(notice_fd, notice);
    // Consecutive lines for one descriptor go out in one write.
    std::string run;
    for (size_t i = 0; i < batch.size(); ++i) {
      run += batch[i].text;
      if (i + 1 == batch.size() || batch[i + 1].fd != batch[i].fd) {
        write_all(batch[i].fd, run);
        run.clear();
      }
    }
    lock.lock();
    s->writing = false;
    if (s->queue.empty()) s->drained.notify_all();
  }
}

}  // namespace dynamod
