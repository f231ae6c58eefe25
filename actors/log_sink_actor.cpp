#include "actors/log_sink_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

namespace {

constexpr size_t kTailLines = 256;
constexpr size_t kMaxLine = 16 * 1024;         // longer lines are split
constexpr size_t kMaxReadPerWakeup = 1 << 20;  // then yield to other actors

struct stream {
  int fd = -1;
  std::string partial;
};

struct log_sink_state {
  log_sink_args args;
  stream streams[2];  // 0 stdout, 1 stderr
  int file_fd = -1;
  bool file_failed = false;
  uint64_t file_size = 0;
  std::vector<std::string> tail;  // ring of the last kTailLines lines, allocated on the first line
  std::vector<caf::actor> followers;
  size_t tail_next = 0;
  uint64_t lines = 0;
  static inline const char* name = "log_sink";
  ~log_sink_state() {
    for (auto& s : streams) {
      if (s.fd >= 0) {
        args.context->loop->forget(s.fd);
        ::close(s.fd);
      }
    }
    if (file_fd >= 0) ::close(file_fd);
  }
};

using self_ptr = caf::stateful_actor<log_sink_state>*;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int open_fifo(const std::string& path) {
  if (!ensure_log_fifo(path)) return -1;
  // Read-write: the FIFO always has a writer (us), so reads never see EOF and epoll never reports HUP.
  return ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

void open_file(log_sink_state& st) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(st.args.file).parent_path(), ec);
  st.file_fd = ::open(st.args.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (st.file_fd < 0) {
    spdlog::warn("{}: cannot open log file {}: {}", st.args.service, st.args.file, std::strerror(errno));
    return;
  }
  struct stat s {};
  st.file_size = ::fstat(st.file_fd, &s) == 0 ? static_cast<uint64_t>(s.st_size) : 0;
}

void rotate(log_sink_state& st) {
  if (st.file_fd >= 0) ::close(st.file_fd);
  st.file_fd = -1;
  const std::string& f = st.args.file;
  if (st.args.keep <= 0) {
    ::unlink(f.c_str());
  } else {
    for (int i = st.args.keep; i > 1; --i) {
      ::rename((f + "." + std::to_string(i - 1)).c_str(), (f + "." + std::to_string(i)).c_str());
    }
    ::rename(f.c_str(), (f + ".1").c_str());
  }
  open_file(st);
}

void write_file(log_sink_state& st, const std::string& block) {
  if (block.empty()) return;
  // Opened on the first line: a thousand quiet services cost no thousand files.
  if (st.file_fd < 0 && !st.file_failed) {
    open_file(st);
    st.file_failed = st.file_fd < 0;
  }
  if (st.file_fd < 0) return;
  size_t off = 0;
  while (off < block.size()) {
    const ssize_t n = ::write(st.file_fd, block.data() + off, block.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // disk full: the tail in memory still has the lines
    off += static_cast<size_t>(n);
  }
  st.file_size += block.size();
}

// Writes what has accumulated when the file would outgrow its limit, then rotates: files stay close to
// max-size even when a burst of output arrives in one read.
void flush_if_full(log_sink_state& st, std::string& block) {
  if (st.args.max_size == 0 || st.file_size + block.size() < st.args.max_size) return;
  write_file(st, block);
  block.clear();
  rotate(st);
}

void take_line(log_sink_state& st, bool err, std::string text, std::string& block, int64_t ts) {
  std::string line = format_log_line(ts, err, text);
  block += line;
  block += '\n';
  flush_if_full(st, block);
  if (st.tail.size() < kTailLines) {
    st.tail.push_back(std::move(line));
  } else {
    st.tail[st.tail_next] = std::move(line);
  }
  st.tail_next = (st.tail_next + 1) % kTailLines;
  ++st.lines;
}

void drain(self_ptr self, int index) {
  auto& st = self->state;
  stream& s = st.streams[index];
  const bool err = index == 1;
  char buf[65536];
  size_t total = 0;
  std::string block;
  const uint64_t lines_before = st.lines;
  const int64_t ts = now_ms();
  while (total < kMaxReadPerWakeup) {
    const ssize_t n = ::read(s.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
    s.partial.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      const size_t nl = s.partial.find('\n', start);
      if (nl == std::string::npos) break;
      take_line(st, err, s.partial.substr(start, nl - start), block, ts);
      start = nl + 1;
    }
    s.partial.erase(0, start);
    while (s.partial.size() >= kMaxLine) {
      take_line(st, err, s.partial.substr(0, kMaxLine), block, ts);
      s.partial.erase(0, kMaxLine);
    }
  }
  write_file(st, block);
  if (!st.followers.empty() && st.lines > lines_before) {
    const size_t fresh = std::min<uint64_t>(st.lines - lines_before, st.tail.size());
    const size_t size = st.tail.size();
    for (size_t i = 0; i < fresh; ++i) {
      const std::string& line = st.tail[(st.tail_next + size - fresh + i) % size];
      for (const auto& f : st.followers) self->send(f, log_line_atom_v, line);
    }
  }
  st.args.context->loop->watch(s.fd, EPOLLIN, caf::actor_cast<caf::actor>(self), static_cast<uint64_t>(index));
}

}  // namespace

bool ensure_log_fifo(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISFIFO(st.st_mode)) return true;
    ::unlink(path.c_str());
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return ::mkfifo(path.c_str(), 0600) == 0 || errno == EEXIST;
}

std::string log_fifo_path(const runtime_paths& paths, const std::string& service, bool stderr_stream) {
  return paths.state_dir + "/log/" + service + (stderr_stream ? ".stderr" : ".stdout");
}

std::string format_log_line(int64_t unix_ms, bool stderr_stream, const std::string& text) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  ::gmtime_r(&secs, &utc);
  char stamp[80];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  return std::string{stamp} + (stderr_stream ? " err| " : " out| ") + text;
}

static caf::behavior log_sink(self_ptr self, log_sink_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& f = self->state.followers;
    f.erase(std::remove_if(f.begin(), f.end(), [&](const caf::actor& a) { return a.address() == down.source; }), f.end());
  });
  std::error_code ec;
  std::filesystem::create_directories(st.args.context->paths.state_dir + "/log", ec);
  for (int i = 0; i < 2; ++i) {
    const std::string path = log_fifo_path(st.args.context->paths, st.args.service, i == 1);
    st.streams[i].fd = open_fifo(path);
    if (st.streams[i].fd < 0) {
      spdlog::warn("{}: cannot create {}: {}", st.args.service, path, std::strerror(errno));
      continue;
    }
    st.args.context->loop->watch(st.streams[i].fd, EPOLLIN, caf::actor_cast<caf::actor>(self), static_cast<uint64_t>(i));
  }
  return {
      [=](io_ready_atom, uint64_t tag, uint32_t) {
        if (tag < 2 && self->state.streams[tag].fd >= 0) drain(self, static_cast<int>(tag));
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "log_sink"}, {"name", st.args.file}, {"state", "open"}, {"lines", st.lines},
                              {"followers", st.followers.size()}, {"mailbox", self->mailbox().size()}});
      },
      [=](log_follow_atom, caf::actor subscriber) {
        // Followers are monitored: one that goes away stops receiving (dynamodctl logs -f).
        self->monitor(subscriber);
        self->state.followers.push_back(std::move(subscriber));
      },
      [=](log_tail_atom, uint32_t n) {
        const auto& st = self->state;
        const size_t size = st.tail.size();
        const size_t count = std::min<size_t>(n, size);
        std::vector<std::string> out;
        out.reserve(count);
        // Oldest first: the ring's oldest entry is at tail_next once it is full.
        const size_t oldest = size < kTailLines ? 0 : st.tail_next;
        for (size_t i = size - count; i < size; ++i) out.push_back(st.tail[(oldest + i) % size]);
        return out;
      },
  };
}

caf::actor spawn_log_sink(caf::event_based_actor* supervisor, log_sink_args args) {
  return supervisor->spawn<caf::linked>(log_sink, std::move(args));
}

}  // namespace dynamod
