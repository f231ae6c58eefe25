#include "dbus/lenient_properties.hpp"

#include <cstring>
#include <memory>
#include <string>

#include "dbus/bus_state.hpp"

namespace dynamod::dbus {

namespace {

struct lenient_target {
  bus_state* st;
  const char* interface;
  const sd_bus_vtable* vtable;
};

const sd_bus_vtable* find_property(const sd_bus_vtable* v, const char* name) {
  for (; v->type != _SD_BUS_VTABLE_END; ++v) {
    const bool property = v->type == _SD_BUS_VTABLE_PROPERTY || v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY;
    if (property && std::strcmp(v->x.property.member, name) == 0 && v->x.property.get) return v;
  }
  return nullptr;
}

int on_get(sd_bus_message* m, void* userdata, sd_bus_error* error) {
  auto& t = *static_cast<lenient_target*>(userdata);
  if (!sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get")) return 0;
  const char* interface = nullptr;
  const char* name = nullptr;
  const int read = sd_bus_message_read(m, "ss", &interface, &name);
  std::string asked = read >= 0 ? interface : "", property = read >= 0 ? name : "";
  sd_bus_message_rewind(m, 1);  // sd-bus reads it again when we pass it on
  if (read < 0 || asked != std::string(t.interface) + "." + property) return 0;
  const sd_bus_vtable* p = find_property(t.vtable, property.c_str());
  if (!p) return 0;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0) r = sd_bus_message_open_container(reply, 'v', p->x.property.signature);
  if (r >= 0) {
    r = p->x.property.get(sd_bus_message_get_bus(m), sd_bus_message_get_path(m), t.interface, property.c_str(), reply,
                          t.st, error);
  }
  if (r >= 0) r = sd_bus_message_close_container(reply);
  if (r >= 0) r = sd_bus_send(nullptr, reply, nullptr);
  sd_bus_message_unref(reply);
  return r < 0 ? r : 1;
}

}  // namespace

int add_vtable_object(bus_state& st, const char* path, const char* interface, const sd_bus_vtable* vtable) {
  sd_bus_slot* slot = nullptr;
  const int r = sd_bus_add_object_vtable(st.bus, &slot, path, interface, vtable, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  return add_lenient_get(st, path, interface, vtable);
}

int add_lenient_get(bus_state& st, const char* path, const char* interface, const sd_bus_vtable* vtable) {
  auto target = std::make_shared<lenient_target>(lenient_target{&st, interface, vtable});
  sd_bus_slot* slot = nullptr;
  const int r = sd_bus_add_object(st.bus, &slot, path, on_get, target.get());
  if (r < 0) return r;
  st.slots.push_back(slot);
  st.keep_alive.push_back(std::move(target));
  return 0;
}

}  // namespace dynamod::dbus
