#include "dynamodctl/shutdown_alias.hpp"

namespace dynamod::ctl {

namespace {

bool is_immediate(const std::string& when) { return when == "now" || when == "+0" || when == "0"; }

}  // namespace

std::optional<shutdown_request> shutdown_alias(const std::string& program, const std::vector<std::string>& args) {
  if (program != "poweroff" && program != "reboot" && program != "halt" && program != "shutdown") return std::nullopt;
  shutdown_request r;
  // shutdown(8) powers off unless told otherwise; the other three name their mode.
  r.mode = program == "shutdown" ? "poweroff" : program;
  bool time_seen = false;
  for (const std::string& a : args) {
    if (a == "--help") {
      r.help = true;
    } else if (a == "-p" || a == "--poweroff" || a == "-P") {
      r.mode = "poweroff";
    } else if (a == "--reboot" || (a == "-r" && program == "shutdown")) {
      r.mode = "reboot";
    } else if (a == "--halt" || (a == "-H" && program == "shutdown")) {
      r.mode = "halt";
    } else if (a == "-h" && program == "shutdown") {
      r.mode = "poweroff";  // -h: halt or power off; every modern shutdown powers off
    } else if (a == "-f" || a == "--force" || a == "--no-wall" || a == "-n" || a == "-i" || a == "-d" ||
               a == "--no-wtmp" || a == "-q") {
      // Accepted for compatibility: dynamod always stops services in order and writes wtmp itself.
    } else if (a == "-c") {
      r.error = "no shutdown is scheduled: dynamod shuts down at once";
    } else if (a == "-k" || a == "-w" || a == "--wtmp-only") {
      r.error = "option " + a + " is not supported";
    } else if (!a.empty() && a[0] == '-') {
      r.error = "unknown option " + a;
    } else if (program == "shutdown" && !time_seen) {
      time_seen = true;
      if (!is_immediate(a)) r.error = "only an immediate shutdown is supported: use 'now', not '" + a + "'";
    } else if (program != "shutdown") {
      r.error = "unexpected argument '" + a + "'";
    }
    // Words after shutdown's time are its wall message: dynamod does not broadcast, they are ignored.
    if (!r.error.empty()) {
      r.mode.clear();
      return r;
    }
  }
  return r;
}

std::string shutdown_alias_usage(const std::string& program) {
  if (program == "shutdown") {
    return "usage: shutdown [-h|-P|-H|-r] [now] [MESSAGE]\n"
           "  stops every service in reverse dependency order, then powers off (-h, -P: default), halts (-H)\n"
           "  or reboots (-r). Only an immediate shutdown is supported.\n";
  }
  return "usage: " + program + " [-p|--poweroff|--reboot|--halt] [-f]\n"
         "  stops every service in reverse dependency order, then " +
         (program == "reboot" ? std::string("reboots") : program == "halt" ? "halts" : "powers off") + ".\n";
}

}  // namespace dynamod::ctl
