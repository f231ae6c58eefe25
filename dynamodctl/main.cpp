// dynamodctl: manage and inspect dynamod from the command line. See `dynamodctl --help`.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "dynamodctl/control_client.hpp"
#include "dynamodctl/render.hpp"
#include "dynamodctl/shutdown_alias.hpp"
#include "protocol/terminal_text.hpp"

using namespace dynamod;
using dynamod::ctl::shutdown_alias;
using json = nlohmann::json;

namespace {

const char* const kUsage =
    "usage: dynamodctl [--socket PATH] [--json] [--no-block] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  list                          services, their state, pid, uptime and restarts\n"
    "  status SERVICE                one service in detail, with its last log lines\n"
    "                                (exit 0 running, 3 not running, 4 unknown)\n"
    "  start SERVICE...              start and wait until ready (--no-block: do not wait)\n"
    "  stop SERVICE...               stop and wait until stopped\n"
    "  restart SERVICE...            stop, start, wait until ready\n"
    "  tree [--watch [SECONDS]]      the live actor tree of the runtime\n"
    "  logs SERVICE [-f] [-n LINES]  the service's output (-f: follow)\n"
    "  reload                        re-read the configuration and apply the differences\n"
    "  check                         validate the configuration\n"
    "  shutdown poweroff|reboot|halt shut the system down\n"
    "\n"
    "options:\n"
    "  --socket PATH   control socket (default: $DYNAMOD_SOCKET, else /run/dynamod/control.sock)\n"
    "  --json          print the runtime's JSON (docs/control-protocol.md) instead of tables\n"
    "  --no-block      start/stop/restart: return once requested\n"
    "\n"
    "Changing commands need root. Colour only on a terminal, never with NO_COLOR set.\n";

std::string default_socket() {
  if (const char* s = std::getenv("DYNAMOD_SOCKET"); s && *s) return s;
  return "/run/dynamod/control.sock";
}

struct options {
  std::string socket = default_socket();
  bool as_json = false;
  bool no_block = false;
  bool follow = false;
  bool watch = false;
  bool names_only = false;  // `list --names`: for shell completion
  int watch_seconds = 2;
  std::string lines;
  std::vector<std::string> words;
};

// A service's output as it wrote it when piped; on a terminal its control characters are shown escaped, so
// a service cannot drive the operator's terminal (tabs pass).
std::string log_line(const json& line) {
  if (!line.is_string()) return line.dump();
  static const bool on_terminal = ::isatty(STDOUT_FILENO) == 1;
  const auto& text = line.get_ref<const std::string&>();
  return on_terminal ? terminal_safe(text, true) : text;
}

int run_once(control_client& client, const options& o, const std::string& command, const std::vector<std::string>& args,
             const ctl::style& st) {
  uint32_t flags = 0;
  if (o.no_block) flags |= protocol::flag_no_block;
  if (o.follow) flags |= protocol::flag_follow;
  std::string error;
  auto on_event = [&](const protocol::control_reply& r) {
    auto j = json::parse(r.json, nullptr, false);
    if (o.as_json) {
      std::cout << r.json << std::endl;
    } else if (j.is_object() && j.contains("line")) {
      std::cout << log_line(j.at("line")) << std::endl;
    }
  };
  // Every request is answered within the runtime's own deadline; waiting somewhat longer, a client never hangs on
  // a runtime that does not answer. A follower waits for lines as long as it likes.
  const int timeout_ms =
      o.follow ? -1
               : static_cast<int>(std::chrono::milliseconds(protocol::kControlOperateTimeout + protocol::kControlClientGrace).count());
  auto reply = client.call(command, args, flags, error, on_event, timeout_ms);
  if (!reply) {
    std::cerr << "dynamodctl: " << terminal_safe(error) << "\n";
    return 1;
  }
  json body = json::parse(reply->json, nullptr, false);
  const bool per_service_results = body.is_object() && body.contains("results");
  if (reply->kind == protocol::reply_kind::error && !per_service_results) {
    const bool has_error = body.is_object() && body.contains("error") && body.at("error").is_string();
    std::cerr << "dynamodctl: " << terminal_safe(has_error ? body.at("error").get<std::string>() : reply->json) << "\n";
    return reply->exit_code ? reply->exit_code : 1;
  }
  if (o.as_json) {
    std::cout << body.dump(2) << "\n";
    return reply->exit_code;
  }
  if (command == "list" && body.is_array()) {
    if (o.names_only) {
      for (const auto& s : body) {
        if (s.is_object() && s.contains("name") && s.at("name").is_string()) {
          std::cout << terminal_safe(s.at("name").get<std::string>()) << "\n";
        }
      }
    } else {
      std::cout << ctl::render_list(body, st);
    }
  } else if (command == "status") {
    std::cout << ctl::render_status(body, st);
  } else if (command == "tree") {
    std::cout << ctl::render_tree(body, st);
  } else if (command == "start" || command == "stop" || command == "restart") {
    (reply->exit_code == 0 ? std::cout : std::cerr) << ctl::render_operation(command, body, st);
  } else if (command == "logs") {
    if (body.is_object() && body.contains("lines")) {
      for (const auto& l : body.at("lines")) std::cout << log_line(l) << "\n";
    }
  } else if (command == "reload") {
    std::cout << ctl::render_reload(body, st);
  } else if (command == "check") {
    std::cout << ctl::render_check(body, st);
  } else if (command == "shutdown") {
    std::cout << "Shutting down (" << args.at(0) << ").\n";
  } else {
    std::cout << body.dump(2) << "\n";
  }
  return reply->exit_code;
}

bool parse(int argc, char** argv, options& o, int& exit_code) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (a == "--socket") {
      if (!value(o.socket)) return exit_code = 2, false;
    } else if (a == "--json") {
      o.as_json = true;
    } else if (a == "--no-block") {
      o.no_block = true;
    } else if (a == "-f" || a == "--follow") {
      o.follow = true;
    } else if (a == "--names") {
      o.names_only = true;
    } else if (a == "-n" || a == "--lines") {
      if (!value(o.lines)) return exit_code = 2, false;
    } else if (a == "--watch") {
      o.watch = true;
      if (i + 1 < argc && std::atoi(argv[i + 1]) > 0) o.watch_seconds = std::atoi(argv[++i]);
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return exit_code = 0, false;
    } else if (a == "--version") {
      std::cout << "dynamodctl 0.1.0\n";
      return exit_code = 0, false;
    } else if (a.size() > 1 && a[0] == '-') {
      std::cerr << "dynamodctl: unknown option " << a << "\n" << kUsage;
      return exit_code = 2, false;
    } else {
      o.words.push_back(a);
    }
  }
  if (o.words.empty()) {
    std::cerr << kUsage;
    return exit_code = 2, false;
  }
  return true;
}

}  // namespace

// As poweroff, reboot, halt or shutdown: one request, no other options.
std::optional<int> run_as_shutdown_alias(int argc, char** argv) {
  std::string program = argv[0];
  if (const auto slash = program.rfind('/'); slash != std::string::npos) program.erase(0, slash + 1);
  const auto request = shutdown_alias(program, std::vector<std::string>(argv + 1, argv + argc));
  if (!request) return std::nullopt;
  if (request->help) {
    std::cout << ctl::shutdown_alias_usage(program);
    return 0;
  }
  if (!request->error.empty()) {
    std::cerr << program << ": " << request->error << "\n" << ctl::shutdown_alias_usage(program);
    return 2;
  }
  control_client client;
  if (auto err = client.connect(default_socket())) {
    std::cerr << program << ": " << *err << " (is dynamod the running init?)\n";
    return 1;
  }
  options o;
  return run_once(client, o, "shutdown", {request->mode}, ctl::style{});
}

int main(int argc, char** argv) {
  if (argc > 0) {
    if (auto code = run_as_shutdown_alias(argc, argv)) return *code;
  }
  options o;
  int exit_code = 0;
  if (!parse(argc, argv, o, exit_code)) return exit_code;
  const std::string command = o.words.front();
  std::vector<std::string> args(o.words.begin() + 1, o.words.end());
  if (command == "logs" && !o.lines.empty()) args.push_back(o.lines);
  ctl::style st;
  st.colour = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr && !o.as_json;

  control_client client;
  if (auto err = client.connect(o.socket)) {
    std::cerr << "dynamodctl: " << *err << "\n";
    return 1;
  }
  if (command == "tree" && o.watch) {
    for (;;) {
      if (st.colour) std::cout << "\033[H\033[2J";
      const int code = run_once(client, o, command, args, st);
      if (code != 0) return code;
      std::cout.flush();
      std::this_thread::sleep_for(std::chrono::seconds(o.watch_seconds));
    }
  }
  return run_once(client, o, command, args, st);
}
