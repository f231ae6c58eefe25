// Console output off the actor threads. A serial console takes about 3 ms a line: an actor that wrote its own
// status or log line would hold a scheduler thread that long (10,000 services slow to stop: half a minute of
// a blocked runtime). Lines are queued here and one thread writes them out in order.
//
// The queue is bounded: when the console falls behind by more than `max_queued_bytes`, the oldest waiting
// lines are dropped (the newest say where things stand) and, before the next line that is written, one line
// says how many were lost. runtime.log has every log line; the console is a view.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace dynamod {

class console_writer {
 public:
  // About a second of a 115200-baud serial console.
  static constexpr size_t default_max_queued_bytes = 16 * 1024;

  explicit console_writer(size_t max_queued_bytes = default_max_queued_bytes);
  ~console_writer();  // writes out what is queued, for at most `exit_drain_limit`
  console_writer(const console_writer&) = delete;
  console_writer& operator=(const console_writer&) = delete;

  static constexpr std::chrono::milliseconds exit_drain_limit{2000};

  // Queues `line` (newline included) for `fd`; never waits for the console.
  void write(int fd, std::string line);
  // Waits until everything queued so far is written, or `limit` has passed. False if lines are still queued.
  bool flush(std::chrono::milliseconds limit);
  uint64_t dropped() const;

 private:
  struct pending {
    int fd;
    std::string text;
  };
  void run();
  bool write_all(int fd, const std::string& text);

  const size_t max_queued_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the writer: work or stop
  std::condition_variable drained_;  // flush(): the queue is empty and nothing is being written
  std::deque<pending> queue_;
  size_t queued_bytes_ = 0;
  uint64_t dropped_ = 0;            // ever
  uint64_t dropped_unreported_ = 0;  // since the last notice
  int last_dropped_fd_ = -1;
  bool writing_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dynamod
