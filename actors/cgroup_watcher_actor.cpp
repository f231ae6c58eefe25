#include "actors/cgroup_watcher_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <optional>
#include <sys/epoll.h>
#include <unistd.h>

#include "actors/json_text.hpp"
#include "actors/messages.hpp"
#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/cgroup/cgroup_settings.hpp"
#include "runtime/io/event_loop.hpp"

namespace dynamod {

namespace {

enum watch_tag : uint64_t { events_file = 1, memory_events_file = 2 };

struct watcher_state {
  cgroup_watcher_args args;
  caf::actor service;
  int events_fd = -1;
  int memory_events_fd = -1;
  bool populated = false;
  uint64_t oom_kills = 0;
  static inline const char* name = "cgroup_watcher";

  ~watcher_state() {
    for (int fd : {events_fd, memory_events_fd}) {
      if (fd < 0) continue;
      args.context->loop->forget(fd);
      ::close(fd);
    }
  }
};

using self_ptr = caf::stateful_actor<watcher_state>*;

// nullopt: the file is unreadable (its cgroup was removed).
std::optional<std::string> read_fd(int fd) {
  std::string out;
  char buf[1024];
  ssize_t n;
  off_t off = 0;
  while ((n = ::pread(fd, buf, sizeof buf, off)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  if (n < 0) return std::nullopt;
  return out;
}

// A removed cgroup's files report the event again on every re-arm: stop watching instead of busy-looping.
bool gone(self_ptr self, int& fd, uint32_t events, const std::optional<std::string>& text) {
  if (text && (events & (EPOLLERR | EPOLLHUP)) == 0) return false;
  self->state.args.context->loop->forget(fd);
  ::close(fd);
  fd = -1;
  return true;
}

void arm(self_ptr self, int fd, watch_tag tag) {
  if (fd >= 0) self->state.args.context->loop->watch(fd, EPOLLPRI, caf::actor_cast<caf::actor>(self), tag);
}

// Reading resets the kernel's "changed" mark; then the watch is re-armed.
void check_events(self_ptr self, uint32_t events) {
  auto& st = self->state;
  const auto text = read_fd(st.events_fd);
  if (gone(self, st.events_fd, events, text)) {
    if (st.populated) self->send(st.service, populated_atom_v, false);  // a removed cgroup holds nothing
    st.populated = false;
    return;
  }
  const bool populated = parse_flat_keyed(*text)["populated"] != 0;
  if (populated != st.populated) {
    st.populated = populated;
    self->send(st.service, populated_atom_v, populated);
  }
  arm(self, st.events_fd, events_file);
}

void check_memory_events(self_ptr self, uint32_t events) {
  auto& st = self->state;
  const auto text = read_fd(st.memory_events_fd);
  if (gone(self, st.memory_events_fd, events, text)) return;
  const uint64_t kills = parse_flat_keyed(*text)["oom_kill"];
  if (kills > st.oom_kills) {
    st.oom_kills = kills;
    self->send(st.service, oom_atom_v, kills);
  }
  arm(self, st.memory_events_fd, memory_events_file);
}

// "/dynamod/web/httpd": the path as /proc/PID/cgroup shows it.
std::string display_path(const std::string& dir) {
  const std::string mount = "/sys/fs/cgroup";
  return dir.rfind(mount, 0) == 0 ? dir.substr(mount.size()) : dir;
}

nlohmann::json limit_json(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  auto v = parse_limit(*text);
  return v ? nlohmann::json(*v) : nlohmann::json("max");
}

nlohmann::json stats(self_ptr self) {
  const std::string& dir = self->state.args.dir;
  nlohmann::json j{{"cgroup", display_path(dir)}, {"populated", self->state.populated}};
  auto number = [&](const char* file) -> nlohmann::json {
    auto text = read_cgroup_file(dir, file);
    if (!text) return nullptr;
    auto v = parse_limit(*text);
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  j["memory_current"] = number("memory.current");
  j["memory_peak"] = number("memory.peak");  // Linux 5.19 and later
  j["memory_max"] = limit_json(read_cgroup_file(dir, "memory.max"));
  j["memory_high"] = limit_json(read_cgroup_file(dir, "memory.high"));
  j["pids_current"] = number("pids.current");
  j["pids_max"] = limit_json(read_cgroup_file(dir, "pids.max"));
  if (auto cpu = read_cgroup_file(dir, "cpu.stat")) j["cpu_usage_usec"] = parse_flat_keyed(*cpu)["usage_usec"];
  if (auto cpu_max = read_cgroup_file(dir, "cpu.max")) {
    std::string v = *cpu_max;
    while (!v.empty() && v.back() == '\n') v.pop_back();
    j["cpu_max"] = v;
  }
  if (auto mem = read_cgroup_file(dir, "memory.events")) j["oom_kills"] = parse_flat_keyed(*mem)["oom_kill"];
  return j;
}

}  // namespace

static caf::behavior cgroup_watcher(self_ptr self, caf::actor service, cgroup_watcher_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.service = std::move(service);
  st.events_fd = ::open((st.args.dir + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC);
  st.memory_events_fd = ::open((st.args.dir + "/memory.events").c_str(), O_RDONLY | O_CLOEXEC);
  // The starting point: the process may already be in (or gone) before the first notification.
  if (st.events_fd >= 0) st.populated = parse_flat_keyed(read_fd(st.events_fd).value_or(""))["populated"] != 0;
  if (st.memory_events_fd >= 0) st.oom_kills = parse_flat_keyed(read_fd(st.memory_events_fd).value_or(""))["oom_kill"];
  arm(self, st.events_fd, events_file);
  arm(self, st.memory_events_fd, memory_events_file);
  return {
      [=](io_ready_atom, uint64_t tag, uint32_t events) {
        if (tag == events_file && self->state.events_fd >= 0) check_events(self, events);
        if (tag == memory_events_file && self->state.memory_events_fd >= 0) check_memory_events(self, events);
      },
      [=](cg_stats_atom) { return json_text(stats(self)); },
      [=](tree_atom) {
        const std::string& dir = self->state.args.dir;
        return json_text(nlohmann::json{{"kind", "cgroup_watcher"},
                              {"name", display_path(dir)},
                              {"state", self->state.populated ? "populated" : "empty"},
                              {"oom_kills", self->state.oom_kills},
                              {"mailbox", self->mailbox().size()},
                              {"children", nlohmann::json::array()}});
      },
  };
}

caf::actor spawn_cgroup_watcher(caf::event_based_actor* service, cgroup_watcher_args args) {
  return service->spawn<caf::linked>(cgroup_watcher, caf::actor_cast<caf::actor>(service), std::move(args));
}

}  // namespace dynamod
