#include "runtime/state/adoption_record.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dynamod {

std::string format_adoption_record(const adoption_record& r) {
  std::string status = r.status_text;
  for (char& c : status) {
    if (c == '\n') c = ' ';
  }
  return "pid=" + std::to_string(r.pid) + "\nstart_time=" + std::to_string(r.start_time) + "\nready=" +
         (r.ready ? "1" : "0") + "\ndone=" + (r.done ? "1" : "0") + "\ninvocation_id=" + r.invocation_id +
         "\nstatus=" + status + "\n";
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
      }
    }
  } catch (...) {
    return std::nullopt;
  }
  if (r.done) return r;  // no process to check
  if (!have_pid || !have_start) return std::nullopt;
  return r;
}

std::optional<proc_status> parse_proc_stat_line(const std::string& text) {
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text.substr(close + 1));
  std::string field;
  proc_status st;
  // Fields after the comm: 3 state, 4 ppid, ..., 22 starttime.
  for (int index = 3; index <= 22; ++index) {
    if (!(in >> field)) return std::nullopt;
    if (index == 3) st.zombie = field == "Z" || field == "X";
    if (index == 4) st.parent = static_cast<pid_t>(std::stol(field));
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

bool adoption_store::save(const std::string& service, const adoption_record& r) const {
  // Written to a temporary name and renamed: a crash mid-write must not leave a record that looks valid.
  const std::string tmp = path(service) + ".tmp";
  const std::string text = format_adoption_record(r);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 && errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return written && std::rename(tmp.c_str(), path(service).c_str()) == 0;
}

std::optional<adoption_record> adoption_store::load(const std::string& service) const {
  std::ifstream in(path(service));
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_adoption_record(ss.str());
}

std::optional<adoption_record> adoption_store::load_live(const std::string& service) const {
  auto r = load(service);
  if (!r) return std::nullopt;
  if (r->done) return r;
  auto st = read_proc_status(r->pid);
  if (!st || st->zombie || st->start_time != r->start_time) return std::nullopt;
  return r;
}

void adoption_store::remove(const std::string& service) const {
  std::error_code ec;
  std::filesystem::remove(path(service), ec);
}

void adoption_store::remove_if(const std::string& service, const std::string& invocation_id) const {
  if (auto r = load(service); r && r->invocation_id != invocation_id) return;
  remove(service);
}

}  // namespace dynamod
