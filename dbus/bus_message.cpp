#include "dbus/bus_message.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace dynamod::dbus {

namespace {

struct message_unref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using owned_message = std::unique_ptr<sd_bus_message, message_unref>;

struct waiting_calls {
  std::mutex mutex;
  std::map<std::pair<const void*, std::string>, int> by_sender;  // (connection, sender)
  int total = 0;
};

waiting_calls& waiting() {
  static waiting_calls w;
  return w;
}

std::pair<const void*, std::string> sender_key(sd_bus_message* m) {
  const char* sender = sd_bus_message_get_sender(m);
  return {sd_bus_message_get_bus(m), sender ? sender : ""};
}

}  // namespace

message_ref keep(sd_bus_message* m) {
  auto key = sender_key(m);
  {
    auto& w = waiting();
    std::lock_guard<std::mutex> lock(w.mutex);
    ++w.by_sender[key];
    ++w.total;
  }
  return message_ref(sd_bus_message_ref(m), [key](sd_bus_message* x) {
    {
      auto& w = waiting();
      std::lock_guard<std::mutex> lock(w.mutex);
      auto it = w.by_sender.find(key);
      if (it != w.by_sender.end() && --it->second <= 0) w.by_sender.erase(it);
      --w.total;
    }
    sd_bus_message_unref(x);
  });
}

bool call_over_limit(sd_bus_message* m) {
  auto key = sender_key(m);
  auto& w = waiting();
  std::lock_guard<std::mutex> lock(w.mutex);
  if (w.total >= kMaxCallsWaiting) return true;
  auto it = w.by_sender.find(key);
  return it != w.by_sender.end() && it->second >= kMaxCallsPerSender;
}

int append_strings(sd_bus_message* m, const std::vector<std::string>& strings) {
  int r = sd_bus_message_open_container(m, 'a', "s");
  for (size_t k = 0; r >= 0 && k < strings.size(); ++k) r = sd_bus_message_append(m, "s", strings[k].c_str());
  return r < 0 ? r : sd_bus_message_close_container(m);
}

int append_variant(sd_bus_message* m, const property_value& v) {
  const char* sig = dbus_signature(v);
  int r = sd_bus_message_open_container(m, 'v', sig);
  if (r < 0) return r;
  if (const auto* b = std::get_if<bool>(&v)) {
    r = sd_bus_message_append(m, "b", static_cast<int>(*b));
  } else if (const auto* i = std::get_if<int32_t>(&v)) {
    r = sd_bus_message_append(m, "i", *i);
  } else if (const auto* u = std::get_if<uint32_t>(&v)) {
    r = sd_bus_message_append(m, "u", *u);
  } else if (const auto* t = std::get_if<uint64_t>(&v)) {
    r = sd_bus_message_append(m, "t", *t);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    r = sd_bus_message_append(m, "s", s->c_str());
  } else if (const auto* as = std::get_if<std::vector<std::string>>(&v)) {
    r = append_strings(m, *as);
  }
  if (r < 0) return r;
  return sd_bus_message_close_container(m);
}

int append_property_dict(sd_bus_message* m, const std::vector<property>& props) {
  int r = sd_bus_message_open_container(m, 'a', "{sv}");
  for (size_t k = 0; r >= 0 && k < props.size(); ++k) {
    r = sd_bus_message_open_container(m, 'e', "sv");
    if (r >= 0) r = sd_bus_message_append(m, "s", props[k].name.c_str());
    if (r >= 0) r = append_variant(m, props[k].value);
    if (r >= 0) r = sd_bus_message_close_container(m);
  }
  if (r < 0) return r;
  return sd_bus_message_close_container(m);
}

int reply_property(sd_bus_message* call, const property& p) {
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_method_return(call, &raw);
  if (r < 0) return r;
  owned_message reply(raw);
  r = append_variant(raw, p.value);
  if (r < 0) return r;
  return sd_bus_send(nullptr, raw, nullptr);
}

int reply_properties(sd_bus_message* call, const std::vector<property>& props) {
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_method_return(call, &raw);
  if (r < 0) return r;
  owned_message reply(raw);
  r = append_property_dict(raw, props);
  if (r < 0) return r;
  return sd_bus_send(nullptr, raw, nullptr);
}

int emit_properties_changed(sd_bus* bus, const std::string& path, const std::string& interface,
                            const std::vector<property>& props) {
  sd_bus_message* raw = nullptr;
  int r = sd_bus_message_new_signal(bus, &raw, path.c_str(), "org.freedesktop.DBus.Properties", "PropertiesChanged");
  if (r < 0) return r;
  owned_message signal(raw);
  r = sd_bus_message_append(raw, "s", interface.c_str());
  if (r >= 0) r = append_property_dict(raw, props);
  if (r >= 0) r = sd_bus_message_append(raw, "as", 0);
  if (r < 0) return r;
  return sd_bus_send(bus, raw, nullptr);
}

int read_string_array(sd_bus_message* m, std::vector<std::string>& out, sd_bus_error* error, size_t max) {
  char** strv = nullptr;
  const int r = sd_bus_message_read_strv(m, &strv);
  if (r < 0) return r;
  size_t n = 0;
  for (char** s = strv; s && *s; ++s, ++n) {
    if (n < max) out.emplace_back(*s);
    free(*s);
  }
  free(strv);
  if (n > max) {
    out.clear();
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many strings: %zu, at most %zu.", n, max);
  }
  return 0;
}

int reply_error(sd_bus_message* call, const char* name, const std::string& message) {
  sd_bus_error error = SD_BUS_ERROR_MAKE_CONST(name, message.c_str());
  return sd_bus_reply_method_error(call, &error);
}

}  // namespace dynamod::dbus
