#include <toml++/toml.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "runtime/config/service_config.hpp"

namespace dynamod {

std::string config_error::describe() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

namespace {

void parse_service(const std::string& path, loaded_config& out) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    out.errors.push_back({path, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                          "", std::string{e.description()}});
    return;
  }
  service_config svc;
  svc.file = path;
  auto* service = root["service"].as_table();
  if (!service) {
    out.errors.push_back({path, 1, 1, "service", "the [service] table is missing"});
    return;
  }
  if (auto name = (*service)["name"].value<std::string>()) {
    svc.name = *name;
  } else {
    out.errors.push_back({path, static_cast<int>(service->source().begin.line), 1, "service.name",
                          "required key is missing or not a string"});
    return;
  }
  if (auto* exec = (*service)["exec"].as_array(); exec && !exec->empty()) {
    for (auto& e : *exec) {
      if (auto s = e.value<std::string>()) svc.exec.push_back(*s);
    }
  }
  if (svc.exec.empty()) {
    out.errors.push_back({path, static_cast<int>(service->source().begin.line), 1, "service.exec",
                          "required key is missing or not a non-empty array of strings"});
    return;
  }
  if (auto sig = root["shutdown"]["stop-signal"].value<std::string>()) {
    std::string name = *sig;
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    int number = 0;
    for (int n = 1; n < NSIG; ++n) {
      const char* abbrev = sigabbrev_np(n);
      if (abbrev && name == abbrev) number = n;
    }
    if (number == 0) {
      out.errors.push_back({path, 1, 1, "shutdown.stop-signal", "unknown signal '" + *sig + "'"});
      return;
    }
    svc.stop_signal = number;
  }
  out.services.push_back(std::move(svc));
}

}  // namespace

loaded_config load_config_dir(const std::string& dir) {
  loaded_config out;
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir + "/services", ec)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) parse_service(f, out);
  return out;
}

}  // namespace dynamod
