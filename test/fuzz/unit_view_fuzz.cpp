// libFuzzer target: the runtime's JSON answers (whose strings come from services: STATUS=, exit texts, log lines,
// file names) turned into unit properties for D-Bus clients, and service lines turned into journald datagrams.
// Nothing may throw, read out of bounds or produce a property systemctl would reject (a wrong type, an
// ActiveState it does not know).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "dbus/unit_properties.hpp"
#include "dbus/unit_view_json.hpp"
#include "runtime/io/journal_forwarder.hpp"

using namespace dynamod::dbus;

namespace {

void check(const std::vector<property>& props) {
  static const std::set<std::string> active{"active", "reloading", "inactive", "failed", "activating", "deactivating",
                                            "maintenance"};
  for (const auto& p : props) {
    if (p.name.empty() || (p.interface != kUnitInterface && p.interface != kServiceInterface)) __builtin_trap();
    if (p.name == "ActiveState" && !active.count(std::get<std::string>(p.value))) __builtin_trap();
    if (p.name == "MainPID" && !std::holds_alternative<uint32_t>(p.value)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const clock_now now{1'700'000'000'000'000, static_cast<uint64_t>(size) * 1000};
  const auto json = nlohmann::json::parse(text, nullptr, false);
  const unit_view one = service_view(json, now);
  const auto props = unit_properties(one);
  check(props);
  for (const char* iface : {"", kUnitInterface, kServiceInterface, "org.example.Nope"}) {
    if (auto some = properties_of(props, iface, true); some && some->size() > props.size()) __builtin_trap();
  }
  for (const auto& u : units_of_list(json, now)) check(unit_properties(u));
  check(not_found_unit_properties(text));
  const size_t half = size / 2;
  const std::string d = dynamod::journal_forwarder::datagram(text.substr(0, half), text.substr(half), size % 2, text);
  if (d.find("OBJECT_SYSTEMD_UNIT") == std::string::npos) __builtin_trap();
  return 0;
}
