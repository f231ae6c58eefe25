#include "runtime/state/adoption_record.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/io/file_io_audit.hpp"

namespace dynamod {

std::string format_adoption_record(const adoption_record& r) {
  std::string status = r.status_text;
  for (char& c : status) {
    if (c == '\n') c = ' ';
  }
  std::string text = "pid=" + std::to_string(r.pid) + "\nstart_time=" + std::to_string(r.start_time) + "\nready=" +
                     (r.ready ? "1" : "0") + "\ndone=" + (r.done ? "1" : "0") + "\ninvocation_id=" + r.invocation_id +
                     "\nstatus=" + status + "\n";
  if (r.intent) text += "intent=1\n";
  if (!r.fingerprint.empty()) text += "fingerprint=" + r.fingerprint + "\n";
  if (!r.cgroup_dir.empty() && r.cgroup_dir.find('\n') == std::string::npos) text += "cgroup=" + r.cgroup_dir + "\n";
  return text;
}

std::optional<adoption_record> parse_adoption_record(const std::string& text) {
  adoption_record r;
  std::istringstream in(text);
  std::string line;
  bool have_pid = false, have_start = false;
  try {
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "pid") {
        r.pid = static_cast<pid_t>(std::stol(value));
        have_pid = r.pid > 1;
      } else if (key == "start_time") {
        r.start_time = std::stoull(value);
        have_start = true;
      } else if (key == "ready") {
        r.ready = value == "1";
      } else if (key == "done") {
        r.done = value == "1";
      } else if (key == "invocation_id") {
        r.invocation_id = value;
      } else if (key == "status") {
        r.status_text = value;
      } else if (key == "intent") {
        r.intent = value == "1";
      } else if (key == "fingerprint") {
        r.fingerprint = value;
      } else if (key == "cgroup") {
        r.cgroup_dir = value;
      }
    }
  } catch (...) {
    return std::nullopt;
  }
  if (r.done) return r;  // no process to check
  if (r.intent) {
    // Only the marker identifies its process; without it the record says nothing.
    if (r.invocation_id.empty()) return std::nullopt;
    r.pid = 0;
    r.start_time = 0;
    return r;
  }
  if (!have_pid || !have_start) return std::nullopt;
  return r;
}

adoption_decision decide_adoption(const adoption_record& r, const std::optional<proc_status>& recorded,
                                  const std::vector<marked_process>& marked, const std::string& fingerprint) {
  adoption_decision d;
  d.record = r;
  const bool changed = !r.fingerprint.empty() && !fingerprint.empty() && r.fingerprint != fingerprint;
  if (r.done) {
    // A completed oneshot whose definition changed runs again, as a reload would run it.
    d.what = changed ? adoption_decision::verdict::start : adoption_decision::verdict::adopt;
    return d;
  }
  if (r.intent) {
    // Killed between writing the intent and the pid: the main process is the oldest with its marker that leads
    // its own session. Its descendants carry the marker too, and outlive it (a shell's `sleep`): one of them is
    // not the service, however old.
    for (const auto& m : marked) {
      if (m.pid <= 1 || !m.leads_session) continue;
      d.what = adoption_decision::verdict::adopt;
      d.record.pid = m.pid;
      d.record.start_time = m.start_time;
      d.record.intent = false;
      d.record.ready = false;  // its readiness is not known: it is checked again (a start timeout applies)
      d.stale = changed;
      return d;
    }
    return d;  // it never started (or ended): start it
  }
  if (recorded && !recorded->zombie && recorded->start_time == r.start_time) {
    d.what = adoption_decision::verdict::adopt;
    d.stale = changed;
  }
  return d;
}

bool environment_has_invocation(const std::string& environ_block, const std::string& id) {
  if (id.empty()) return false;
  const std::string wanted = "INVOCATION_ID=" + id;
  size_t at = 0;
  while (at < environ_block.size()) {
    size_t end = environ_block.find('\0', at);
    if (end == std::string::npos) end = environ_block.size();
    if (environ_block.compare(at, end - at, wanted) == 0) return true;
    at = end + 1;
  }
  return false;
}

std::optional<proc_status> parse_proc_stat_line(const std::string& text) {
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text.substr(close + 1));
  std::string field;
  proc_status st;
  // Fields after the comm: 3 state, 4 ppid, 5 pgrp, 6 session, ..., 22 starttime.
  for (int index = 3; index <= 22; ++index) {
    if (!(in >> field)) return std::nullopt;
    if (index == 3) st.zombie = field == "Z" || field == "X";
    if (index == 4) st.parent = static_cast<pid_t>(std::stol(field));
    if (index == 6) st.session = static_cast<pid_t>(std::stol(field));
    if (index == 22) st.start_time = std::stoull(field);
  }
  return st;
}

std::optional<proc_status> read_proc_status(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  try {
    return parse_proc_stat_line(text);
  } catch (...) {
    return std::nullopt;
  }
}

namespace {

// At most `limit` bytes of a (/proc) file, read as it comes: most are far smaller than the limit.
std::string read_small_file(const std::string& path, size_t limit) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  while (text.size() < limit) {
    const ssize_t got = ::read(fd, buf, std::min(sizeof buf, limit - text.size()));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(buf, static_cast<size_t>(got));
  }
  ::close(fd);
  return text;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

std::vector<pid_t> cgroup_members(const std::string& dir) {
  std::vector<pid_t> pids;
  std::istringstream in(read_small_file(dir + "/cgroup.procs", 1 << 20));
  long pid = 0;
  while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

}  // namespace

std::vector<marked_process> find_marked_processes(const std::string& id, const std::string& cgroup_dir) {
  std::vector<marked_process> found;
  if (id.empty()) return found;
  const pid_t me = ::getpid();
  for (pid_t pid : cgroup_dir.empty() ? all_pids() : cgroup_members(cgroup_dir)) {
    if (pid == me) continue;
    // The environment as the process was exec'd with; 1 MiB covers any real one (ARG_MAX is shared with argv).
    const std::string env = read_small_file("/proc/" + std::to_string(pid) + "/environ", 1 << 20);
    if (!environment_has_invocation(env, id)) continue;
    auto st = read_proc_status(pid);
    if (!st || st->zombie) continue;
    found.push_back({pid, st->start_time, st->session == pid});
  }
  std::sort(found.begin(), found.end(), [](const marked_process& a, const marked_process& b) {
    return a.start_time != b.start_time ? a.start_time < b.start_time : a.pid < b.pid;
  });
  return found;
}

std::string format_restart_history(const restart_history& h) {
  auto times = [](const std::vector<int64_t>& v) {
    std::string out;
    for (int64_t t : v) out += (out.empty() ? "" : ",") + std::to_string(t);
    return out;
  };
  std::string text = "boot_id=" + h.boot_id + "\nsupervisor=" + times(h.supervisor) + "\n";
  for (const auto& [id, c] : h.children) {
    if (id.find_first_of("\t\n") != std::string::npos) continue;
    text += "child\t" + id + "\t" + std::to_string(c.restarts) + "\t" + std::to_string(c.consecutive_failures) + "\t" +
            times(c.times) + "\n";
  }
  return text;
}

std::optional<restart_history> parse_restart_history(const std::string& text) {
  auto parse_times = [](const std::string& s) {
    std::vector<int64_t> out;
    std::istringstream in(s);
    std::string part;
    while (std::getline(in, part, ',')) {
      if (!part.empty()) out.push_back(std::stoll(part));
    }
    return out;
  };
  restart_history h;
  bool have_boot = false;
  std::istringstream in(text);
  std::string line;
  try {
    while (std::getline(in, line)) {
      if (line.rfind("boot_id=", 0) == 0) {
        h.boot_id = line.substr(8);
        have_boot = true;
      } else if (line.rfind("supervisor=", 0) == 0) {
        h.supervisor = parse_times(line.substr(11));
      } else if (line.rfind("child\t", 0) == 0) {
        std::vector<std::string> f;
        std::istringstream fields(line.substr(6));
        std::string part;
        while (std::getline(fields, part, '\t')) f.push_back(part);
        if (f.size() < 3 || f[0].empty()) return std::nullopt;
        child_history c;
        c.restarts = std::stoi(f[1]);
        c.consecutive_failures = std::stoi(f[2]);
        if (f.size() > 3) c.times = parse_times(f[3]);
        h.children[f[0]] = std::move(c);
      }
    }
  } catch (...) {
    return std::nullopt;
  }
  if (!have_boot) return std::nullopt;
  return h;
}

std::string current_boot_id() {
  std::string id = read_small_file("/proc/sys/kernel/random/boot_id", 128);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

namespace {

// Written to a temporary name and renamed: a crash mid-write must not leave a record that looks valid.
bool write_atomically(const std::string& dir, const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written && std::rename(tmp.c_str(), path.c_str()) == 0;
}

constexpr size_t kPage = 4096;

// A record of at most one page is rewritten in place by one pwrite(2) at offset 0: a runtime killed during the
// call leaves the old text or the new one, never a mix (the kernel copies a page at a time and stops for a fatal
// signal only between pages). No rename and no truncation: on ext4 both free the old blocks, which with the
// `discard` mount option waits for the disk (4x slower starts). Shorter text is padded with newlines to the
// file's size; parsers skip blank lines, so a record of newlines only is no record ("cleared").
// A bigger record takes the temporary-file-and-rename path.
bool write_in_place(const std::string& dir, const std::string& path, const std::string& text) {
  file_io_audit::note("record write");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  }
  if (fd < 0) return false;
  struct stat s {};
  if (::fstat(fd, &s) < 0) {
    ::close(fd);
    return false;
  }
  const size_t size = std::max(text.size(), static_cast<size_t>(s.st_size));
  if (size > kPage) {
    ::close(fd);
    return write_atomically(dir, path, text);
  }
  std::string page = text;
  page.resize(size, '\n');
  const bool written = ::pwrite(fd, page.data(), page.size(), 0) == static_cast<ssize_t>(page.size());
  ::close(fd);
  return written;
}

// Cleared in place (see write_in_place): only a file that exists needs it.
void clear_in_place(const std::string& dir, const std::string& path) {
  struct stat s {};
  if (::stat(path.c_str(), &s) == 0 && s.st_size > 0) write_in_place(dir, path, "");
}

std::string history_dir(const std::string& services_dir) {
  return std::filesystem::path(services_dir).parent_path().string() + "/supervisors";
}

}  // namespace

bool adoption_store::save_history(const std::string& supervisor, const restart_history& h) const {
  const std::string dir = history_dir(dir_);
  return write_in_place(dir, dir + "/" + supervisor + ".history", format_restart_history(h));
}

std::optional<restart_history> adoption_store::load_history(const std::string& supervisor) const {
  file_io_audit::note("history read");
  auto h = parse_restart_history(read_small_file(history_dir(dir_) + "/" + supervisor + ".history", 1 << 20));
  if (!h || h->boot_id != current_boot_id()) return std::nullopt;  // another boot's clock means nothing now
  return h;
}

void adoption_store::remove_history(const std::string& supervisor) const {
  file_io_audit::note("history clear");
  const std::string dir = history_dir(dir_);
  clear_in_place(dir, dir + "/" + supervisor + ".history");
}

std::optional<adoption_decision> adoption_store::reconcile(const std::string& service,
                                                           const std::string& fingerprint) const {
  auto r = load(service);
  if (!r) return std::nullopt;
  std::optional<proc_status> recorded;
  std::vector<marked_process> marked;
  if (r->intent) {
    marked = find_marked_processes(r->invocation_id, r->cgroup_dir);
  } else if (!r->done) {
    recorded = read_proc_status(r->pid);
  }
  return decide_adoption(*r, recorded, marked, fingerprint);
}

bool adoption_store::save(const std::string& service, const adoption_record& r) const {
  return write_in_place(dir_, path(service), format_adoption_record(r));
}

std::optional<adoption_record> adoption_store::load(const std::string& service) const {
  file_io_audit::note("record read");
  std::ifstream in(path(service));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_adoption_record(ss.str());
}

std::optional<adoption_record> adoption_store::load_live(const std::string& service) const {
  auto d = reconcile(service, {});
  if (!d || d->what != adoption_decision::verdict::adopt) return std::nullopt;
  return d->record;
}

void adoption_store::remove(const std::string& service) const {
  file_io_audit::note("record removal");
  std::error_code ec;
  std::filesystem::remove(path(service), ec);
}

void adoption_store::remove_if(const std::string& service, const std::string& invocation_id) const {
  if (auto r = load(service); !r || r->invocation_id != invocation_id) return;
  clear(service);
}

void adoption_store::clear(const std::string& service) const { clear_in_place(dir_, path(service)); }

}  // namespace dynamod
