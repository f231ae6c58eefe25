// systemd's jobs, as the D-Bus clients follow them: every Start/Stop/Restart/...Unit call returns a job object
// path at once; the job ends later with JobRemoved(id, path, unit, result), which systemctl waits for forever, so
// every job must end: done, failed, dependency, canceled (a newer job on the same unit replaced it), or timeout.
// Pure: time comes in as a parameter (simulated in the tests), the actor emits the signals.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod::dbus {

using job_clock = std::chrono::steady_clock;

struct job {
  uint32_t id = 0;
  std::string unit;  // "sshd.service"
  std::string type;  // start, stop, restart, reload, try-restart, reload-or-restart, ...
  job_clock::time_point deadline;
  std::string path() const;  // "/org/freedesktop/systemd1/job/<id>"
};

struct job_removed {  // the arguments of JobRemoved(u id, o job, s unit, s result)
  uint32_t id = 0;
  std::string path;
  std::string unit;
  std::string result;
};

// How dynamod answered the operation a job stands for.
enum class job_outcome { done, failed, dependency, canceled, timeout, unsupported };
const char* job_result_text(job_outcome o);  // "done", "failed", "dependency", "canceled", "timeout", "unsupported"

class job_book {
 public:
  static constexpr size_t kMaxJobs = 1024;  // a local user cannot queue the manager's memory away

  explicit job_book(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  struct enqueued {
    std::optional<job> created;              // nullopt: the book is full (the caller answers an error)
    std::optional<job_removed> replaced;     // the unit's previous job, ended as canceled
  };
  enqueued enqueue(const std::string& unit, const std::string& type, job_clock::time_point now);

  // The job's end; nullopt if it is not (or no longer) in the book (already ended, canceled, timed out).
  std::optional<job_removed> finish(uint32_t id, job_outcome outcome);
  // Every job past its deadline ends as timeout.
  std::vector<job_removed> expire(job_clock::time_point now);
  // The earliest deadline, for the actor's timer.
  std::optional<job_clock::time_point> next_deadline() const;

  const job* find(uint32_t id) const;
  const job* find_by_unit(const std::string& unit) const;
  std::vector<job> list() const;  // ListJobs, by id
  size_t size() const { return jobs_.size(); }

 private:
  std::optional<job_removed> end(std::map<uint32_t, job>::iterator it, job_outcome outcome);

  std::chrono::milliseconds timeout_;
  uint32_t last_id_ = 0;
  std::map<uint32_t, job> jobs_;
  std::map<std::string, uint32_t> by_unit_;
};

}  // namespace dynamod::dbus
