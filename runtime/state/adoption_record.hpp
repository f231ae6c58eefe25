// What a runtime writes for each running service so that its successor (after a crash and a restart by
// PID 1) can adopt the process instead of starting a second one: <state_dir>/services/<name>.state.
// A record is only trusted if /proc still shows the same process (pid and start time).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace dynamod {

struct adoption_record {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22, clock ticks since boot
  bool ready = false;
  bool done = false;  // a oneshot that completed: no process, and nothing to run again
  std::string invocation_id;
  std::string status_text;
};

std::string format_adoption_record(const adoption_record& r);
std::optional<adoption_record> parse_adoption_record(const std::string& text);

// /proc/<pid>/stat: start time, and whether the process is a zombie. Nothing if it does not exist.
struct proc_status {
  uint64_t start_time = 0;
  bool zombie = false;
  pid_t parent = 0;
};
std::optional<proc_status> read_proc_status(pid_t pid);
std::optional<proc_status> parse_proc_stat_line(const std::string& text);

class adoption_store {
 public:
  explicit adoption_store(std::string dir) : dir_(std::move(dir)) {}
  bool save(const std::string& service, const adoption_record& r) const;  // atomic (rename)
  std::optional<adoption_record> load(const std::string& service) const;
  // The record if its process is still the one that was recorded (not exited, not a reused pid).
  std::optional<adoption_record> load_live(const std::string& service) const;
  void remove(const std::string& service) const;
  // Removes the record only if it is this incarnation's (a newer one, e.g. of a service a reload moved to
  // another supervisor, may have replaced it).
  void remove_if(const std::string& service, const std::string& invocation_id) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string path(const std::string& service) const { return dir_ + "/" + service + ".state"; }
  std::string dir_;
};

}  // namespace dynamod
