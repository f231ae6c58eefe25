// Job objects under /org/freedesktop/systemd1/job/<id> (org.freedesktop.systemd1.Job), while the job runs: the
// path every Start/Stop/...Unit call returns. Their properties come from the job runner at the time of the call;
// Cancel() ends the job as canceled (root only).
#include <sstream>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/unit_names.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kJobTree = "/org/freedesktop/systemd1/job";
constexpr const char* kJobInterface = "org.freedesktop.systemd1.Job";
constexpr auto kTimeout = std::chrono::seconds(10);

struct job_view {
  uint32_t id = 0;
  std::string unit;
  std::string type;
};

std::vector<job_view> jobs_of(const std::vector<std::string>& flat) {
  std::vector<job_view> out;
  for (size_t i = 0; i + 2 < flat.size(); i += 3) {
    out.push_back({static_cast<uint32_t>(std::stoul(flat[i])), flat[i + 1], flat[i + 2]});
  }
  return out;
}

std::optional<uint32_t> job_id_of(const std::string& path) {
  const std::string prefix = std::string(kJobTree) + "/";
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string digits = path.substr(prefix.size());
  if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long long id = std::stoull(digits);
  if (id == 0 || id > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(id);
}

const char* kJobIntrospection =
    "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
    "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n"
    " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
    "  <method name=\"Introspect\"><arg name=\"xml_data\" type=\"s\" direction=\"out\"/></method>\n </interface>\n"
    " <interface name=\"org.freedesktop.DBus.Properties\">\n"
    "  <method name=\"Get\"><arg direction=\"in\" type=\"s\"/><arg direction=\"in\" type=\"s\"/>"
    "<arg direction=\"out\" type=\"v\"/></method>\n"
    "  <method name=\"GetAll\"><arg direction=\"in\" type=\"s\"/><arg direction=\"out\" type=\"a{sv}\"/></method>\n"
    " </interface>\n"
    " <interface name=\"org.freedesktop.systemd1.Job\">\n  <method name=\"Cancel\"/>\n"
    "  <property name=\"Id\" type=\"u\" access=\"read\"/>\n  <property name=\"Unit\" type=\"(so)\" access=\"read\"/>\n"
    "  <property name=\"JobType\" type=\"s\" access=\"read\"/>\n  <property name=\"State\" type=\"s\" access=\"read\"/>\n"
    " </interface>\n</node>\n";

// One property as a variant.
int append_job_property(sd_bus_message* m, const job_view& j, const std::string& name) {
  int r = 0;
  if (name == "Id") {
    r = sd_bus_message_append(m, "v", "u", j.id);
  } else if (name == "Unit") {
    r = sd_bus_message_append(m, "v", "(so)", j.unit.c_str(), unit_object_path(j.unit).c_str());
  } else if (name == "JobType") {
    r = sd_bus_message_append(m, "v", "s", j.type.c_str());
  } else if (name == "State") {
    r = sd_bus_message_append(m, "v", "s", "running");
  } else {
    return -ENOENT;
  }
  return r;
}

void answer(bus_state& st, sd_bus_message* m, uint32_t id, std::string member, std::string interface, std::string property) {
  auto call = keep(m);
  bus_state* s = &st;
  st.self->request(st.args.jobs, kTimeout, job_list_atom_v)
      .then(
          [s, call, id, member, interface, property](const std::vector<std::string>& flat) {
            const job_view* found = nullptr;
            const auto jobs = jobs_of(flat);
            for (const auto& j : jobs) {
              if (j.id == id) found = &j;
            }
            if (!found) {
              reply_error(call.get(), SD_BUS_ERROR_UNKNOWN_OBJECT, "Job " + std::to_string(id) + " does not exist.");
            } else if (!interface.empty() && interface != kJobInterface) {
              reply_error(call.get(), SD_BUS_ERROR_UNKNOWN_INTERFACE, "Unknown interface.");
            } else {
              sd_bus_message* reply = nullptr;
              int r = sd_bus_message_new_method_return(call.get(), &reply);
              if (member == "GetAll") {
                if (r >= 0) r = sd_bus_message_open_container(reply, 'a', "{sv}");
                for (const char* name : {"Id", "Unit", "JobType", "State"}) {
                  if (r >= 0) r = sd_bus_message_open_container(reply, 'e', "sv");
                  if (r >= 0) r = sd_bus_message_append(reply, "s", name);
                  if (r >= 0) r = append_job_property(reply, *found, name);
                  if (r >= 0) r = sd_bus_message_close_container(reply);
                }
                if (r >= 0) r = sd_bus_message_close_container(reply);
              } else if (r >= 0) {
                r = append_job_property(reply, *found, property);
              }
              if (r == -ENOENT) {
                reply_error(call.get(), SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property.");
              } else if (r >= 0) {
                sd_bus_send(nullptr, reply, nullptr);
              }
              sd_bus_message_unref(reply);
            }
            pump(*s);
          },
          [s, call](caf::error& err) {
            reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
            pump(*s);
          });
}

int on_job_message(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& st = *static_cast<bus_state*>(userdata);
  uint8_t type = 0;
  if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL) return 0;
  const std::string path = sd_bus_message_get_path(m) ? sd_bus_message_get_path(m) : "";
  const std::string iface = sd_bus_message_get_interface(m) ? sd_bus_message_get_interface(m) : "";
  const std::string member = sd_bus_message_get_member(m) ? sd_bus_message_get_member(m) : "";
  if (path == kJobTree) {
    if (member != "Introspect") return 0;
    auto call = keep(m);
    bus_state* s = &st;
    st.self->request(st.args.jobs, kTimeout, job_list_atom_v)
        .then(
            [s, call](const std::vector<std::string>& flat) {
              std::ostringstream xml;
              xml << "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
                     "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n";
              for (const auto& j : jobs_of(flat)) xml << " <node name=\"" << j.id << "\"/>\n";
              xml << "</node>\n";
              sd_bus_reply_method_return(call.get(), "s", xml.str().c_str());
              pump(*s);
            },
            [s, call](caf::error& err) {
              reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
              pump(*s);
            });
    return 1;
  }
  auto id = job_id_of(path);
  if (!id) return 0;
  if (member == "Introspect") return sd_bus_reply_method_return(m, "s", kJobIntrospection);
  if (iface == "org.freedesktop.DBus.Properties" && member == "GetAll") {
    const char* want = nullptr;
    if (sd_bus_message_read(m, "s", &want) < 0) return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Expected (s).");
    answer(st, m, *id, member, want, "");
    return 1;
  }
  if (iface == "org.freedesktop.DBus.Properties" && member == "Get") {
    const char* want = nullptr;
    const char* name = nullptr;
    if (sd_bus_message_read(m, "ss", &want, &name) < 0) {
      return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Expected (ss).");
    }
    answer(st, m, *id, member, want, name);
    return 1;
  }
  if (iface == kJobInterface && member == "Cancel") {
    auto call = keep(m);
    bus_state* s = &st;
    const uint32_t job = *id;
    require_root(st, m, [s, call, job] {
      s->self->request(s->args.jobs, kTimeout, job_cancel_atom_v, job)
          .then(
              [s, call, job](bool known) {
                if (known) {
                  sd_bus_reply_method_return(call.get(), "");
                } else {
                  reply_error(call.get(), "org.freedesktop.systemd1.NoSuchJob", "Job " + std::to_string(job) + " does not exist.");
                }
                pump(*s);
              },
              [s, call](caf::error& err) {
                reply_error(call.get(), SD_BUS_ERROR_FAILED, caf::to_string(err));
                pump(*s);
              });
    });
    return 1;
  }
  return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method on a job object.");
}

}  // namespace

int add_systemd1_jobs(bus_state& st) {
  sd_bus_slot* slot = nullptr;
  const int r = sd_bus_add_fallback(st.bus, &slot, kJobTree, on_job_message, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  return 0;
}

}  // namespace dynamod::dbus
