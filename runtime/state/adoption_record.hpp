// What a runtime writes for each running service so that its successor (after a crash and a restart by
// PID 1) can adopt the process instead of starting a second one: <state_dir>/services/<name>.state.
// A record is only trusted if /proc still shows the same process (pid and start time).
// The record is written twice per incarnation: an *intent* (invocation id, no pid yet) just before the spawn,
// then the pid once the spawn returned. A runtime killed in between leaves the intent, and its successor finds
// the process by its marker (INVOCATION_ID=<id> in its environment), so no service ever runs twice.
// Each supervisor also keeps its restart history (restart counts and intensity windows) here, so that a
// service crash-looping while the runtime restarts still reaches its limit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dynamod {

// /proc/<pid>/stat: start time, and whether the process is a zombie. Nothing if it does not exist.
struct proc_status {
  uint64_t start_time = 0;
  bool zombie = false;
  pid_t parent = 0;
  pid_t session = 0;  // its session id: a service's main process leads its own (spawned with setsid)
};

struct adoption_record {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22, clock ticks since boot
  bool ready = false;
  bool done = false;  // a oneshot that completed: no process, and nothing to run again
  std::string invocation_id;
  std::string status_text;
  bool intent = false;       // written before the spawn: the pid is not known yet
  std::string fingerprint;   // definition_fingerprint() of what it was started from ("": unknown, an older runtime)
  std::string cgroup_dir;    // its cgroup ("": none); where to look for an intent's process
};

std::string format_adoption_record(const adoption_record& r);
std::optional<adoption_record> parse_adoption_record(const std::string& text);

// A process that carries an incarnation's marker (INVOCATION_ID=<id>).
struct marked_process {
  pid_t pid = 0;
  uint64_t start_time = 0;
  bool leads_session = false;
};

// What a new runtime does with a record its predecessor left (pure: the caller looks at /proc).
struct adoption_decision {
  enum class verdict {
    start,    // nothing of it runs: start it as usual
    adopt,    // take over `pid` (or a completed oneshot)
  } what = verdict::start;
  adoption_record record;  // with the pid and start time of the process to adopt
  // The process was started from another definition than the current one (changed on disk while no runtime
  // ran): adopt it, then restart it with the current definition, as reload does with a changed service.
  bool stale = false;
};
// `recorded`: /proc for the record's pid (nothing if it is gone); `marked`: for an intent, the live processes
// carrying its invocation id, oldest first (the main process is the oldest that leads its session; the others
// are its descendants, or strays left by a main process that ended);
// `fingerprint`: the current definition's.
adoption_decision decide_adoption(const adoption_record& r, const std::optional<proc_status>& recorded,
                                  const std::vector<marked_process>& marked, const std::string& fingerprint);

std::optional<proc_status> read_proc_status(pid_t pid);
std::optional<proc_status> parse_proc_stat_line(const std::string& text);

// Whether a NUL-separated environment block holds exactly INVOCATION_ID=<id>.
bool environment_has_invocation(const std::string& environ_block, const std::string& id);
// Live processes carrying INVOCATION_ID=<id>, oldest first: among cgroup_dir's processes if it is set, else
// every process (needs root to read other users' environments). Reads /proc; used only at adoption.
std::vector<marked_process> find_marked_processes(const std::string& id, const std::string& cgroup_dir);

// A supervisor's restart history: its intensity window and, per child, the child's own window, its restart
// count and its consecutive quick failures (backoff). Timestamps are whole seconds of CLOCK_MONOTONIC, which
// is per boot and outlives the runtime; a history from another boot (boot id) is not used.
struct child_history {
  int restarts = 0;
  int consecutive_failures = 0;
  std::vector<int64_t> times;
  bool operator==(const child_history&) const = default;
};
struct restart_history {
  std::string boot_id;
  std::vector<int64_t> supervisor;
  std::map<std::string, child_history> children;
  bool operator==(const restart_history&) const = default;
};
std::string format_restart_history(const restart_history& h);
std::optional<restart_history> parse_restart_history(const std::string& text);
std::string current_boot_id();  // /proc/sys/kernel/random/boot_id ("" if unreadable)

class adoption_store {
 public:
  explicit adoption_store(std::string dir) : dir_(std::move(dir)) {}
  // In place, crash-atomic (one pwrite of at most a page; see write_in_place in the .cpp).
  bool save(const std::string& service, const adoption_record& r) const;
  std::optional<adoption_record> load(const std::string& service) const;
  // The record if its process is still the one that was recorded (not exited, not a reused pid).
  std::optional<adoption_record> load_live(const std::string& service) const;
  void remove(const std::string& service) const;  // unlinks (start-up clean-up only)
  // Removes the record only if it is this incarnation's (a newer one, e.g. of a service a reload moved to
  // another supervisor, may have replaced it).
  void remove_if(const std::string& service, const std::string& invocation_id) const;
  void clear(const std::string& service) const;  // unconditionally (the caller knows whose record it is)
  const std::string& dir() const { return dir_; }
  // The record as a new runtime should use it (decide_adoption over /proc); nothing if there is no record.
  std::optional<adoption_decision> reconcile(const std::string& service, const std::string& fingerprint) const;

  // Restart histories, per supervisor: <dir>/../supervisors/<name>.history.
  bool save_history(const std::string& supervisor, const restart_history& h) const;
  std::optional<restart_history> load_history(const std::string& supervisor) const;  // this boot's only
  void remove_history(const std::string& supervisor) const;

 private:
  std::string path(const std::string& service) const { return dir_ + "/" + service + ".state"; }
  std::string dir_;
};

}  // namespace dynamod
