// dynamod-nsinit: PID 1 of a service's own pid namespace (namespace.enable = ["pid"]), so that the service
// is not: it starts the service, forwards the signals it gets to the service's process group, reaps the
// orphans that the namespace hands it, and exits with the service's status when the service ends (the
// kernel then kills whatever is left in the namespace). A signal cannot kill a namespace's init the way it
// kills its target, so a service killed by signal N is reported as exit status 128+N, as shells do.
//
// usage: dynamod-nsinit PATH ARGV0 [ARGS...]   (the environment is passed on)
//
// Static, no heap, no exceptions, like dynamod-init.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace {

constexpr int kMaxEnvironment = 1024;

void say(const char* a, const char* b = "", const char* c = "") {
  const char* parts[] = {"dynamod-nsinit: ", a, b, c, "\n"};
  for (const char* s : parts) {
    if (::write(STDERR_FILENO, s, ::strlen(s)) < 0) return;
  }
}

// WATCHDOG_PID / LISTEN_PID name the process the runtime started, which is us: hand them to the service.
char* own_pid_variable(const char* entry, char* buffer, size_t size) {
  const char* eq = ::strchr(entry, '=');
  if (eq == nullptr) return nullptr;
  const size_t name_len = static_cast<size_t>(eq - entry) + 1;
  if (name_len + 12 > size) return nullptr;
  ::memcpy(buffer, entry, name_len);
  char digits[12];
  int n = 0;
  for (long pid = ::getpid(); pid > 0 && n < 11; pid /= 10) digits[n++] = static_cast<char>('0' + pid % 10);
  char* p = buffer + name_len;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
  return buffer;
}

[[noreturn]] void run_service(char** argv, char** envp, const sigset_t& original) {
  ::setsid();  // its own process group: what we forward signals to
  char* env[kMaxEnvironment + 1];
  char watchdog[64], listen[64];
  int n = 0;
  for (char** e = envp; *e != nullptr && n < kMaxEnvironment; ++e) {
    char* entry = *e;
    if (::strncmp(entry, "WATCHDOG_PID=", 13) == 0) entry = own_pid_variable(entry, watchdog, sizeof watchdog);
    if (::strncmp(entry, "LISTEN_PID=", 11) == 0) entry = own_pid_variable(entry, listen, sizeof listen);
    if (entry != nullptr) env[n++] = entry;
  }
  env[n] = nullptr;
  ::sigprocmask(SIG_SETMASK, &original, nullptr);
  ::execve(argv[1], argv + 2, env);
  say("exec ", argv[1], errno == ENOENT ? ": No such file or directory" : ": failed");
  ::_exit(127);
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  if (argc < 3) {
    say("usage: dynamod-nsinit PATH ARGV0 [ARGS...]");
    return 127;
  }
  // Every signal stays pending until we wait for it: an init with default dispositions would drop them.
  sigset_t all, original;
  sigfillset(&all);
  if (::sigprocmask(SIG_SETMASK, &all, &original) < 0) return 127;
  const pid_t service = ::fork();
  if (service < 0) {
    say("fork failed");
    return 127;
  }
  if (service == 0) run_service(argv, envp, original);
  for (;;) {
    siginfo_t info{};
    const int sig = ::sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      if (::kill(-service, sig) < 0) ::kill(service, sig);
      continue;
    }
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid != service) continue;  // an orphan of the namespace
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
  }
}
