#include "runtime/console_writer.hpp"

#include <cerrno>
#include <pthread.h>
#include <unistd.h>

namespace dynamod {

console_writer::console_writer(size_t max_queued_bytes)
    : max_queued_bytes_(max_queued_bytes), thread_([this] { run(); }) {}

console_writer::~console_writer() {
  flush(exit_drain_limit);
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stop_ = true;
    queue_.clear();  // what the drain limit left: a console that slow gets no more
  }
  wake_.notify_one();
  thread_.join();
}

void console_writer::write(int fd, std::string line) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    queued_bytes_ += line.size();
    queue_.push_back({fd, std::move(line)});
    while (queued_bytes_ > max_queued_bytes_ && queue_.size() > 1) {
      queued_bytes_ -= queue_.front().text.size();
      last_dropped_fd_ = queue_.front().fd;
      queue_.pop_front();
      ++dropped_;
      ++dropped_unreported_;
    }
  }
  wake_.notify_one();
}

bool console_writer::flush(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{mutex_};
  return drained_.wait_for(lock, limit, [this] { return queue_.empty() && !writing_; });
}

uint64_t console_writer::dropped() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return dropped_;
}

bool console_writer::write_all(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // the console is gone: best effort
    off += static_cast<size_t>(n);
  }
  return true;
}

void console_writer::run() {
  ::pthread_setname_np(::pthread_self(), "console");
  std::unique_lock<std::mutex> lock{mutex_};
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::string notice;
    int notice_fd = -1;
    if (dropped_unreported_ > 0) {
      notice = "[  ..  ] " + std::to_string(dropped_unreported_) +
               " console line(s) dropped: the console is slower than the runtime (runtime.log has the log)\n";
      notice_fd = last_dropped_fd_;
      dropped_unreported_ = 0;
    }
    pending next = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= next.text.size();
    writing_ = true;
    lock.unlock();
    if (notice_fd >= 0) write_all(notice_fd, notice);
    write_all(next.fd, next.text);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) drained_.notify_all();
  }
}

}  // namespace dynamod
