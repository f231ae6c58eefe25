#include "actors/file_io_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include <unordered_map>

#include "actors/json_text.hpp"
#include "actors/log_sink_actor.hpp"
#include "actors/messages.hpp"
#include "runtime/io/file_io_audit.hpp"

namespace dynamod {

namespace {

struct file_io_state {
  adoption_store store{""};
  // Whose record each file holds, as this actor last wrote it (service -> invocation id): a clear needs no read
  // to know whether the record is still that incarnation's. Records it did not write are read, as before.
  std::unordered_map<std::string, std::string> written;
  uint64_t requests = 0;
  static inline const char* name = "file_io";
};

using self_ptr = caf::stateful_actor<file_io_state>*;

void save_record(file_io_state& st, const std::string& service, const adoption_record& r) {
  if (st.store.save(service, r)) st.written[service] = r.invocation_id;  // no fsync: a machine crash ends services too
}

int open_fifo(const std::string& path, int flags) {
  file_io_audit::note("log FIFO open");
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && ensure_log_fifo(path)) fd = ::open(path.c_str(), flags | O_CLOEXEC);
  return fd;
}

opened_fifos open_both(const std::string& out, const std::string& err, int flags) {
  opened_fifos r;
  r.out = open_fifo(out, flags);
  if (r.out < 0) r.error = errno;
  r.err = open_fifo(err, flags);
  if (r.err < 0 && r.error == 0) r.error = errno;
  return r;
}

caf::behavior file_io(self_ptr self, std::string records_dir) {
  file_io_audit::allow_this_thread(true);
  self->state.store = adoption_store{std::move(records_dir)};
  return {
      [=](record_save_atom, const std::string& service, const adoption_record& r) {
        ++self->state.requests;
        save_record(self->state, service, r);
      },
      [=](record_clear_atom, const std::string& service, const std::string& invocation_id) {
        auto& st = self->state;
        ++st.requests;
        auto it = st.written.find(service);
        if (it == st.written.end()) {
          st.store.remove_if(service, invocation_id);
        } else if (it->second == invocation_id) {
          st.store.clear(service);
          st.written.erase(it);
        }  // else a newer incarnation's record: it stays
      },
      [=](spawn_files_atom, const std::string& service, const adoption_record& intent, const std::string& out,
          const std::string& err) {
        ++self->state.requests;
        save_record(self->state, service, intent);
        return open_both(out, err, O_RDWR);  // read-write: the service never sees EPIPE (see log_sink_actor)
      },
      [=](sink_files_atom, const std::string& out, const std::string& err) {
        ++self->state.requests;
        return open_both(out, err, O_RDWR | O_NONBLOCK);
      },
      [=](history_save_atom, const std::string& supervisor, const restart_history& h) {
        ++self->state.requests;
        self->state.store.save_history(supervisor, h);
      },
      [=](history_clear_atom, const std::string& supervisor) {
        ++self->state.requests;
        self->state.store.remove_history(supervisor);
      },
      [=](adopt_scan_atom, const std::string& supervisor, const std::vector<std::string>& names,
          const std::vector<std::string>& fingerprints) {
        ++self->state.requests;
        const auto& store = self->state.store;
        adoption_findings f;
        f.decisions.reserve(names.size());
        for (size_t i = 0; i < names.size(); ++i) {
          f.decisions.push_back(store.reconcile(names[i], i < fingerprints.size() ? fingerprints[i] : ""));
        }
        f.history = store.load_history(supervisor);
        return f;
      },
      [=](tree_atom) {
        const auto c = file_io_audit::snapshot();
        nlohmann::json node{{"kind", "file_io"},
                            {"name", "file_io"},
                            {"state", "running"},
                            {"requests", self->state.requests},
                            {"file_ops_on_io_threads", c.on_io_threads},
                            {"file_ops_elsewhere", c.elsewhere},
                            {"mailbox", self->mailbox().size()}};
        if (!c.first_elsewhere.empty()) node["first_elsewhere"] = c.first_elsewhere;
        return json_text(node);
      },
  };
}

}  // namespace

caf::actor spawn_file_io(caf::event_based_actor* parent, std::string records_dir) {
  return parent->spawn<caf::detached + caf::linked>(file_io, std::move(records_dir));
}

}  // namespace dynamod
