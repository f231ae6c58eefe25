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
#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/file_io_actor.hpp"
#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/io/journal_forwarder.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/io/log_files.hpp"

namespace dynamod {

namespace {

constexpr size_t kTailLines = 256;
constexpr size_t kChunk = 65536;                  // one peek: a default pipe's capacity
constexpr size_t kMaxReadPerWakeup = 1 << 20;     // then yield to other actors
constexpr size_t kMaxFinalDrain = 64 << 20;       // a stopping sink of a service that still writes ends anyway
constexpr int64_t kReopenEveryMs = 5000;          // a log file that cannot be opened is tried again this often
// Kept in memory while the file cannot be opened (the boot's first steps run before / is writable); beyond it,
// lines are counted as lost.
constexpr size_t kMaxPending = 64 << 10;

struct stream {
  int fd = -1;
  std::string partial;  // an unfinished line, already taken out of the FIFO (see drain_stream)
};

// Lines taken in one go, written to the file before the FIFO bytes they came from are consumed.
struct block {
  std::string text;
  uint64_t lines = 0;
};

struct log_sink_state {
  log_sink_args args;
  stream streams[2];  // 0 stdout, 1 stderr
  bool reading = false;  // false while another sink of this service still reads (see acquire)
  std::string key;       // this service's stdout FIFO: names the reader slot
  caf::actor_addr me;
  caf::actor_addr waiting_on;
  int file_fd = -1;
  int64_t next_open_ms = 0;
  std::string open_error;
  uint64_t file_size = 0;
  block pending;               // lines waiting for the file to open (at most kMaxPending bytes)
  bool retry_armed = false;
  uint64_t lost = 0;           // lines not written to the file since the last write that worked
  uint64_t lost_total = 0;
  std::string lost_reason;
  std::vector<std::string> tail;  // ring of the last kTailLines lines, allocated on the first line
  std::vector<caf::actor> followers;
  size_t tail_next = 0;
  uint64_t lines = 0;
  static inline const char* name = "log_sink";
  ~log_sink_state();
};

using self_ptr = caf::stateful_actor<log_sink_state>*;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One scratch pipe per scheduler thread: tee(2) copies the FIFO's content into it without consuming it.
// A drain runs start to end on one thread, so no two drains share it at once.
struct scratch_pipe {
  int r = -1, w = -1;
  bool failed = false;
  scratch_pipe() {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
      failed = true;
      spdlog::warn("log sinks: no scratch pipe ({}): output is consumed as it is read", std::strerror(errno));
      return;
    }
    r = p[0];
    w = p[1];
  }
  ~scratch_pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

scratch_pipe& thread_scratch() {
  static thread_local scratch_pipe pipe;
  return pipe;
}

void open_file(log_sink_state& st) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(st.args.file).parent_path(), ec);
  st.file_fd = ::open(st.args.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (st.file_fd < 0) {
    st.open_error = std::string{"cannot open "} + st.args.file + ": " + std::strerror(errno);
    st.next_open_ms = now_ms() + kReopenEveryMs;
    return;
  }
  struct stat s {};
  st.file_size = ::fstat(st.file_fd, &s) == 0 ? static_cast<uint64_t>(s.st_size) : 0;
}

void rotate(log_sink_state& st) {
  if (st.file_fd >= 0) ::close(st.file_fd);
  st.file_fd = -1;
  rotate_log_files(st.args.file, st.args.keep);
  open_file(st);
}

bool write_all(int fd, const std::string& text, int& error) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

void count_lost(log_sink_state& st, uint64_t lines, const std::string& why) {
  if (lines == 0) return;
  if (st.lost == 0) {
    spdlog::warn("{}: log lines are being lost: {} (counting them)", st.args.service, why);
  }
  st.lost += lines;
  st.lost_total += lines;
  st.lost_reason = why;
}

void write_file(log_sink_state& st, block& b) {
  if (b.text.empty() && st.pending.text.empty()) return;
  // Opened on the first line: a thousand quiet services cost no thousand files.
  if (st.file_fd < 0 && now_ms() >= st.next_open_ms) open_file(st);
  if (st.file_fd < 0) {
    if (st.pending.text.size() + b.text.size() <= kMaxPending) {
      st.pending.text += b.text;
      st.pending.lines += b.lines;
    } else {
      count_lost(st, b.lines, st.open_error);
    }
    b = block{};
    return;
  }
  if (!st.pending.text.empty()) {
    // What came while the file could not be opened goes first, in order.
    block kept = std::move(st.pending);
    st.pending = block{};
    kept.text += b.text;
    kept.lines += b.lines;
    b = std::move(kept);
  }
  if (st.lost > 0) {
    // Said where the lines are missing, once the file takes lines again.
    const std::string note = format_log_line(now_ms(), true, "[dynamod] " + std::to_string(st.lost) +
                                                                 " lines lost: " + st.lost_reason) + "\n";
    int error = 0;
    if (write_all(st.file_fd, note, error)) {
      spdlog::warn("{}: {} log lines were lost ({}); {} is written again", st.args.service, st.lost, st.lost_reason,
                   st.args.file);
      st.file_size += note.size();
      st.lost = 0;
    }
  }
  int error = 0;
  if (!write_all(st.file_fd, b.text, error)) {
    count_lost(st, b.lines, std::string{"cannot write "} + st.args.file + ": " + std::strerror(error));
  } else {
    st.file_size += b.text.size();
  }
  b = block{};
}

// Writes what has accumulated when the file would outgrow its limit, then rotates: files stay close to
// max-size even when a burst of output arrives in one read.
void flush_if_full(log_sink_state& st, block& b) {
  if (st.args.max_size == 0 || st.file_size + b.text.size() < st.args.max_size) return;
  write_file(st, b);
  rotate(st);
}

void take_line(log_sink_state& st, bool err, const std::string& text, block& b, int64_t ts,
               std::vector<std::string>* fresh) {
  if (auto* journal = st.args.context ? st.args.context->journal : nullptr) {
    journal->send(st.args.service + ".service", st.args.service, err, text);
  }
  std::string line = format_log_line(ts, err, text);
  b.text += line;
  b.text += '\n';
  ++b.lines;
  flush_if_full(st, b);
  if (fresh) fresh->push_back(line);
  if (st.tail.size() < kTailLines) {
    st.tail.push_back(std::move(line));
  } else {
    st.tail[st.tail_next] = std::move(line);
  }
  st.tail_next = (st.tail_next + 1) % kTailLines;
  ++st.lines;
}

// Reads `n` bytes the FIFO has shown (tee) and that are now in the file: nothing else reads this FIFO.
void consume(int fd, size_t n) {
  char sink[kChunk];
  while (n > 0) {
    const ssize_t r = ::read(fd, sink, std::min(n, sizeof sink));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    n -= static_cast<size_t>(r);
  }
}

// Takes the complete lines out of a stream's FIFO. Each chunk is peeked, its lines written to the file, and
// only then consumed, so a runtime killed in between reads them again. An unfinished line at the end is
// left in the FIFO while more follows (it is peeked again with the rest); when it is all there is, it is
// consumed into `partial` (epoll would report it forever otherwise). `final`: everything, the unfinished
// line included, for a sink that stops. `fresh` receives the new lines for followers.
void drain_stream(log_sink_state& st, int index, bool final, std::vector<std::string>* fresh) {
  stream& s = st.streams[index];
  if (s.fd < 0) return;
  const bool err = index == 1;
  scratch_pipe& scratch = thread_scratch();
  char buf[kChunk];
  block b;
  const int64_t ts = now_ms();
  const size_t cap = final ? kMaxFinalDrain : kMaxReadPerWakeup;
  size_t total = 0;
  while (total < cap) {
    const bool peek = !scratch.failed;
    ssize_t n;
    if (peek) {
      n = ::tee(s.fd, scratch.w, sizeof buf, SPLICE_F_NONBLOCK);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        // Never seen on a FIFO; reading (and consuming) at once beats a FIFO that epoll reports forever.
        spdlog::warn("{}: tee on its log FIFO: {}; consuming output as it is read", st.args.service, std::strerror(errno));
        scratch.failed = true;
        continue;
      }
      if (n > 0) {
        // The scratch pipe was empty, so it holds exactly these n bytes.
        size_t got = 0;
        while (got < static_cast<size_t>(n)) {
          const ssize_t r = ::read(scratch.r, buf + got, static_cast<size_t>(n) - got);
          if (r < 0 && errno == EINTR) continue;
          if (r <= 0) break;
          got += static_cast<size_t>(r);
        }
        if (got != static_cast<size_t>(n)) scratch.failed = true;  // left bytes in it: not to be trusted
        n = static_cast<ssize_t>(got);
      }
    } else {
      n = ::read(s.fd, buf, sizeof buf);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const size_t size = static_cast<size_t>(n);
    size_t used = split_log_lines(s.partial, buf, size, [&](const std::string& line) {
      take_line(st, err, line, b, ts, fresh);
    });
    if (used == 0 || final || !peek) {
      // Only an unfinished line is there (or we stop, or read already consumed it): keep it in memory.
      s.partial.append(buf + used, size - used);
      used = size;
    }
    write_file(st, b);
    if (peek) consume(s.fd, used);
    total += used;
  }
  if (final && !s.partial.empty()) {
    take_line(st, err, s.partial, b, ts, fresh);
    s.partial.clear();
    write_file(st, b);
  }
}

// One message per drain and follower, not per line: a burst of short lines to 50 followers would otherwise queue
// a mailbox element per line in every session before a slow client's reply budget can drop it.
void forward(self_ptr self, std::vector<std::string> fresh) {
  if (fresh.empty()) return;
  for (const auto& f : self->state.followers) self->send(f, log_line_atom_v, fresh);
}

// Lines kept in memory are written once the file opens, even if the service says nothing more.
void arm_retry(self_ptr self) {
  auto& st = self->state;
  if (st.pending.text.empty() || st.retry_armed) return;
  st.retry_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(kReopenEveryMs), log_retry_atom_v);
}

void drain(self_ptr self, int index) {
  auto& st = self->state;
  std::vector<std::string> fresh;
  drain_stream(st, index, false, st.followers.empty() ? nullptr : &fresh);
  forward(self, std::move(fresh));
  arm_retry(self);
  st.args.context->loop->watch(st.streams[index].fd, EPOLLIN, caf::actor_cast<caf::actor>(self),
                               static_cast<uint64_t>(index));
}

// One reader per FIFO at a time: a sink that starts while another sink of the same service still reads or
// drains (a reload replacing it, a restarted supervisor whose old sinks are stopping) waits for that one's
// exit. Two readers would each peek the same bytes and consume the other's. A sink leaves its slot in its
// state's destructor, after its last drain and before its monitors hear of its exit.
std::mutex& readers_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, caf::actor_addr>& readers() {
  static std::map<std::string, caf::actor_addr> slots;
  return slots;
}

bool acquire(self_ptr self) {
  auto& st = self->state;
  caf::actor holder;
  {
    std::lock_guard<std::mutex> lock(readers_mutex());
    auto& slot = readers()[st.key];
    holder = caf::actor_cast<caf::actor>(slot);
    if (!holder || slot == st.me) {
      slot = st.me;
      return true;
    }
  }
  st.waiting_on = holder.address();
  self->monitor(holder);
  return false;
}

void release(log_sink_state& st) {
  std::lock_guard<std::mutex> lock(readers_mutex());
  auto it = readers().find(st.key);
  if (it != readers().end() && it->second == st.me) readers().erase(it);
}

void start_reading(self_ptr self) {
  auto& st = self->state;
  if (st.reading) return;
  st.reading = true;
  for (int i = 0; i < 2; ++i) {
    if (st.streams[i].fd >= 0) {
      st.args.context->loop->watch(st.streams[i].fd, EPOLLIN, caf::actor_cast<caf::actor>(self),
                                   static_cast<uint64_t>(i));
    }
  }
}

std::vector<std::string> last_lines(const log_sink_state& st, uint32_t n) {
  const size_t size = st.tail.size();
  const size_t count = std::min<size_t>(n, size);
  std::vector<std::string> out;
  out.reserve(count);
  // Oldest first: the ring's oldest entry is at tail_next once it is full.
  const size_t oldest = size < kTailLines ? 0 : st.tail_next;
  for (size_t i = size - count; i < size; ++i) out.push_back(st.tail[(oldest + i) % size]);
  return out;
}

log_sink_state::~log_sink_state() {
  // Stopping (reload, exit, a crash of the supervisor): what the service wrote so far goes to the file.
  for (int i = 0; i < 2; ++i) {
    if (streams[i].fd < 0) continue;
    args.context->loop->forget(streams[i].fd);
    if (reading) drain_stream(*this, i, true, nullptr);
    ::close(streams[i].fd);
  }
  if (reading) release(*this);
  if (!pending.text.empty()) {
    block none;
    write_file(*this, none);  // a last try
    count_lost(*this, pending.lines, open_error);
  }
  if (lost > 0) spdlog::warn("{}: {} log lines lost: {}", args.service, lost, lost_reason);
  if (file_fd >= 0) ::close(file_fd);
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
  return volatile_state(paths) + "/log/" + service + (stderr_stream ? ".stderr" : ".stdout");
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
    auto& st = self->state;
    if (!st.reading && down.source == st.waiting_on) {
      st.waiting_on = caf::actor_addr{};
      if (acquire(self)) start_reading(self);
      return;
    }
    auto& f = st.followers;
    f.erase(std::remove_if(f.begin(), f.end(), [&](const caf::actor& a) { return a.address() == down.source; }), f.end());
  });
  st.me = self->address();
  st.key = log_fifo_path(st.args.context->paths, st.args.service, false);
  // The FIFOs are made and opened by the file I/O actor; read-write, so the FIFO always has a writer (us):
  // reads never see EOF and epoll never reports HUP. Until they are open nothing else is handled (await).
  const auto& paths = st.args.context->paths;
  self->request(st.args.context->file_io, caf::infinite, sink_files_atom_v, log_fifo_path(paths, st.args.service, false),
                log_fifo_path(paths, st.args.service, true))
      .await(
          [=](const opened_fifos& f) {
            auto& st = self->state;
            st.streams[0].fd = f.out;
            st.streams[1].fd = f.err;
            for (int i = 0; i < 2; ++i) {
              if (st.streams[i].fd < 0) {
                spdlog::warn("{}: cannot create {}: {}", st.args.service,
                             log_fifo_path(st.args.context->paths, st.args.service, i == 1), std::strerror(f.error));
                continue;
              }
              // PID 1 keeps the FIFO (and what is in it) when this runtime dies and the service exits before the
              // next one opens it. It ignores a FIFO it holds already.
              if (st.args.context->pid1_link) {
                const int copy = ::fcntl(st.streams[i].fd, F_DUPFD_CLOEXEC, 0);
                if (copy >= 0) self->send(st.args.context->pid1_link, hold_fifo_atom_v, copy);
              }
            }
            if (acquire(self)) start_reading(self);
          },
          [=](caf::error& err) {
            spdlog::error("{}: no log FIFOs: {}", self->state.args.service, caf::to_string(err));
          });
  return {
      [=](io_ready_atom, uint64_t tag, uint32_t) {
        if (tag < 2 && self->state.streams[tag].fd >= 0) drain(self, static_cast<int>(tag));
      },
      [=](tree_atom) {
        auto& st = self->state;
        return json_text(nlohmann::json{{"kind", "log_sink"}, {"name", st.args.file}, {"state", "open"}, {"lines", st.lines},
                              {"lost", st.lost_total}, {"followers", st.followers.size()}, {"mailbox", self->mailbox().size()}});
      },
      [=](log_follow_atom, caf::actor subscriber, uint32_t n) {
        // Followers are monitored: one that goes away stops receiving (dynamodctl logs -f). The tail and the
        // registration happen in one step, so no line falls between them.
        self->monitor(subscriber);
        self->state.followers.push_back(std::move(subscriber));
        return last_lines(self->state, n);
      },
      [=](log_tail_atom, uint32_t n) { return last_lines(self->state, n); },
      [=](log_retry_atom) {
        auto& st = self->state;
        st.retry_armed = false;
        block none;
        write_file(st, none);
        arm_retry(self);
      },
      [=](log_remove_atom) {
        auto& st = self->state;
        if (st.args.context->pid1_link) {
          for (int i = 0; i < 2; ++i) {
            self->send(st.args.context->pid1_link, drop_fifo_atom_v, log_fifo_path(st.args.context->paths, st.args.service, i == 1));
          }
        }
        self->quit();
      },
  };
}

caf::actor spawn_log_sink(caf::event_based_actor* supervisor, log_sink_args args) {
  return supervisor->spawn<caf::linked>(log_sink, std::move(args));
}

}  // namespace dynamod
