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
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace dynamod {

class console_writer {
 public:
  // About a second of a 115200-baud serial console.
  static constexpr size_t default_max_queued_bytes = 16 * 1024;

  explicit console_writer(size_t max_queued_bytes = default_max_queued_bytes);
  ~console_writer();  // writes out what is queued, for at most `exit_drain_limit`, then leaves the rest
  console_writer(const console_writer&) = delete;
  console_writer& operator=(const console_writer&) = delete;

  static constexpr std::chrono::milliseconds exit_drain_limit{2000};

  // Queues `line` (newline included) for `fd`; never waits for the console.
  void write(int fd, std::string line);
  // Waits until everything queued so far is written, or `limit` has passed. False if lines are still queued;
  // after that, flushes do not wait.
  bool flush(std::chrono::milliseconds limit);
  uint64_t dropped() const;

 private:
  struct pending {
    int fd;
    std::string text;
  };
  // Shared with the thread: a thread stuck in write(2) on a console that never drains is detached, not
  // joined, at destruction, and must not outlive what it uses.
  struct shared {
    explicit shared(size_t max) : max_queued_bytes(max) {}
    const size_t max_queued_bytes;
    std::mutex mutex;
    std::condition_variable wake;     // the writer: work or stop
    std::condition_variable drained;  // flush(): the queue is empty and nothing is being written
    std::deque<pending> queue;
    size_t queued_bytes = 0;
    uint64_t dropped = 0;             // ever
    uint64_t dropped_unreported = 0;  // since the last notice
    int last_dropped_fd = -1;
    bool writing = false;
    bool stop = false;
    bool gave_up = false;  // a flush timed out: the console is stuck, later flushes do not wait again
  };
  static void run(std::shared_ptr<shared> s);

  std::shared_ptr<shared> s_;
  std::thread thread_;
};

}  // namespace dynamod
