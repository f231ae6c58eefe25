// Unit objects under /org/freedesktop/systemd1/unit: one for any valid unit name, loaded or not (an unknown one
// says LoadState "not-found", which is how `systemctl status nosuch` exits 4). Their properties come from the
// runtime at the time of the call, so the handler answers Properties itself (asynchronously) instead of through an
// sd-bus vtable with synchronous getters; Introspect lists the same properties with their types.
#include <nlohmann/json.hpp>

#include <sstream>

#include "actors/messages.hpp"
#include "dbus/bus_state.hpp"
#include "dbus/unit_names.hpp"
#include "dbus/unit_view_json.hpp"

namespace dynamod::dbus {

namespace {

constexpr const char* kUnitTree = "/org/freedesktop/systemd1/unit";
constexpr const char* kProperties = "org.freedesktop.DBus.Properties";
constexpr auto kRuntimeTimeout = std::chrono::seconds(10);

const char* kIntrospectHeader =
    "<!DOCTYPE node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
    "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n<node>\n"
    " <interface name=\"org.freedesktop.DBus.Peer\">\n  <method name=\"Ping\"/>\n"
    "  <method name=\"GetMachineId\"><arg type=\"s\" name=\"machine_uuid\" direction=\"out\"/></method>\n </interface>\n"
    " <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
    "  <method name=\"Introspect\"><arg name=\"xml_data\" type=\"s\" direction=\"out\"/></method>\n </interface>\n"
    " <interface name=\"org.freedesktop.DBus.Properties\">\n"
    "  <method name=\"Get\"><arg name=\"interface_name\" direction=\"in\" type=\"s\"/>"
    "<arg name=\"property_name\" direction=\"in\" type=\"s\"/><arg name=\"value\" direction=\"out\" type=\"v\"/></method>\n"
    "  <method name=\"GetAll\"><arg name=\"interface_name\" direction=\"in\" type=\"s\"/>"
    "<arg name=\"props\" direction=\"out\" type=\"a{sv}\"/></method>\n"
    "  <signal name=\"PropertiesChanged\"><arg type=\"s\" name=\"interface_name\"/>"
    "<arg type=\"a{sv}\" name=\"changed_properties\"/><arg type=\"as\" name=\"invalidated_properties\"/></signal>\n"
    " </interface>\n";

// The interfaces of a unit object, with their properties' types (taken from what unit_properties produces, so
// the two cannot disagree).
std::string introspect_unit(bool service) {
  unit_view sample;
  sample.unit = service ? "x.service" : "x.target";
  sample.supervisor = !service;
  sample.state = dynamod_state::running;
  std::ostringstream xml;
  xml << kIntrospectHeader;
  for (const char* iface : {kUnitInterface, kServiceInterface}) {
    if (!service && std::string(iface) == kServiceInterface) continue;
    xml << " <interface name=\"" << iface << "\">\n";
    for (const auto& p : unit_properties(sample)) {
      if (p.interface != iface) continue;
      xml << "  <property name=\"" << p.name << "\" type=\"" << dbus_signature(p.value) << "\" access=\"read\"/>\n";
    }
    xml << " </interface>\n";
  }
  xml << "</node>\n";
  return xml.str();
}

std::string introspect_tree(const std::vector<unit_view>& units) {
  std::ostringstream xml;
  xml << kIntrospectHeader;
  for (const auto& u : units) {
    if (u.state != dynamod_state::unknown) xml << " <node name=\"" << escape_path_label(u.unit) << "\"/>\n";
  }
  xml << "</node>\n";
  return xml.str();
}

// The unit's properties, as of now, to `then`.
void with_properties(bus_state& st, const std::string& unit, std::function<void(std::vector<property>, bool)> then) {
  auto name = dynamod_name_of(unit);
  if (!name) {
    then(not_found_unit_properties(unit), false);
    return;
  }
  if (name->supervisor) {
    with_units(st, [unit, then](std::vector<unit_view> units) {
      for (const auto& u : units) {
        if (u.unit == unit) {
          then(unit_properties(u), false);
          return;
        }
      }
      then(not_found_unit_properties(unit), false);
    });
    return;
  }
  st.self->request(st.args.ctx->runtime, kRuntimeTimeout, status_atom_v, name->name)
      .then(
          [unit, then](const std::string& json) {
            const unit_view v = service_view(nlohmann::json::parse(json, nullptr, false), current_time());
            if (v.unit != unit) {
              then(not_found_unit_properties(unit), false);
              return;
            }
            then(unit_properties(v), true);
          },
          [unit, then](caf::error&) { then(not_found_unit_properties(unit), false); });
}

void answer_properties(bus_state& st, sd_bus_message* m, const std::string& unit, std::string interface,
                       std::optional<std::string> wanted) {
  auto call = keep(m);
  bus_state* s = &st;
  with_properties(st, unit, [s, call, interface, wanted](std::vector<property> all, bool is_service) {
    auto props = properties_of(all, interface, is_service);
    if (!props) {
      reply_error(call.get(), SD_BUS_ERROR_UNKNOWN_INTERFACE, "Unknown interface " + interface + ".");
    } else if (!wanted) {
      reply_properties(call.get(), *props);
    } else {
      const property* found = nullptr;
      for (const auto& p : *props) {
        if (p.name == *wanted) found = &p;
      }
      if (found) {
        reply_property(call.get(), *found);
      } else {
        reply_error(call.get(), SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property " + *wanted + ".");
      }
    }
    pump(*s);
  });
}

int on_unit_message(sd_bus_message* m, void* userdata, sd_bus_error* error) {
  auto& st = *static_cast<bus_state*>(userdata);
  uint8_t type = 0;
  sd_bus_message_get_type(m, &type);
  if (type != SD_BUS_MESSAGE_METHOD_CALL) return 0;
  const std::string path = sd_bus_message_get_path(m) ? sd_bus_message_get_path(m) : "";
  const char* iface_c = sd_bus_message_get_interface(m);
  const std::string iface = iface_c ? iface_c : "";
  const std::string member = sd_bus_message_get_member(m) ? sd_bus_message_get_member(m) : "";

  if (path == kUnitTree) {
    if (member != "Introspect" || (!iface.empty() && iface != "org.freedesktop.DBus.Introspectable")) return 0;
    auto call = keep(m);
    bus_state* s = &st;
    with_units(st, [s, call](std::vector<unit_view> units) {
      sd_bus_reply_method_return(call.get(), "s", introspect_tree(units).c_str());
      pump(*s);
    });
    return 1;
  }
  auto unit = unit_from_object_path(path);
  if (!unit || !parse_unit_name(*unit)) return 0;  // sd-bus answers UnknownObject

  if (member == "Introspect" && (iface.empty() || iface == "org.freedesktop.DBus.Introspectable")) {
    auto name = dynamod_name_of(*unit);
    return sd_bus_reply_method_return(m, "s", introspect_unit(!name || !name->supervisor).c_str());
  }
  if (iface == kProperties && member == "GetAll") {
    const char* want = nullptr;
    if (sd_bus_message_read(m, "s", &want) < 0) {
      return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Expected interface name (s).");
    }
    answer_properties(st, m, *unit, want, std::nullopt);
    return 1;
  }
  if (iface == kProperties && member == "Get") {
    const char* want = nullptr;
    const char* name = nullptr;
    if (sd_bus_message_read(m, "ss", &want, &name) < 0) {
      return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_INVALID_ARGS, "Expected interface and property names (ss).");
    }
    answer_properties(st, m, *unit, want, std::string(name));
    return 1;
  }
  if (iface == kProperties && member == "Set") {
    return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_PROPERTY_READ_ONLY, "Unit properties are read-only.");
  }
  (void)error;
  return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method %.255s.%.255s on a unit object.",
                                    iface.c_str(), member.c_str());
}

}  // namespace

int add_systemd1_units(bus_state& st) {
  sd_bus_slot* slot = nullptr;
  const int r = sd_bus_add_fallback(st.bus, &slot, kUnitTree, on_unit_message, &st);
  if (r < 0) return r;
  st.slots.push_back(slot);
  return 0;
}

}  // namespace dynamod::dbus
