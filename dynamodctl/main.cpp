// dynamodctl: manage and inspect dynamod from the command line. See `dynamodctl --help`.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include "dynamodctl/control_client.hpp"

using namespace dynamod;
using json = nlohmann::json;

namespace {

const char* const kUsage =
    "usage: dynamodctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  list                          services and their state\n"
    "  shutdown poweroff|reboot|halt shut the system down\n"
    "\n"
    "The socket defaults to $DYNAMOD_SOCKET, else /run/dynamod/control.sock.\n";

std::string default_socket() {
  if (const char* s = std::getenv("DYNAMOD_SOCKET"); s && *s) return s;
  return "/run/dynamod/control.sock";
}

void print_list(const json& services) {
  std::cout << "SERVICE              STATE      PID      RESTARTS\n";
  for (const auto& s : services) {
    std::string name = s.value("name", "");
    std::string state = s.value("state", "");
    name.resize(std::max<size_t>(name.size(), 20), ' ');
    state.resize(std::max<size_t>(state.size(), 10), ' ');
    const int pid = s.value("pid", 0);
    std::string pid_text = pid > 0 ? std::to_string(pid) : "-";
    pid_text.resize(std::max<size_t>(pid_text.size(), 8), ' ');
    std::cout << name << " " << state << " " << pid_text << " " << s.value("restarts", 0) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = default_socket();
  bool as_json = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      socket = argv[++i];
    } else if (a == "--json") {
      as_json = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = words.front();
  const std::vector<std::string> args(words.begin() + 1, words.end());

  control_client client;
  if (auto err = client.connect(socket)) {
    std::cerr << "dynamodctl: " << *err << "\n";
    return 1;
  }
  std::string error;
  auto reply = client.call(command, args, 0, error);
  if (!reply) {
    std::cerr << "dynamodctl: " << error << "\n";
    return 1;
  }
  json body = json::parse(reply->json, nullptr, false);
  if (reply->kind == protocol::reply_kind::error) {
    std::cerr << "dynamodctl: " << (body.is_object() ? body.value("error", reply->json) : reply->json) << "\n";
    return reply->exit_code ? reply->exit_code : 1;
  }
  if (as_json) {
    std::cout << body.dump(2) << "\n";
  } else if (command == "list" && body.is_array()) {
    print_list(body);
  } else if (command == "shutdown") {
    std::cout << "Shutting down (" << args.at(0) << ").\n";
  } else {
    std::cout << body.dump(2) << "\n";
  }
  return reply->exit_code;
}
