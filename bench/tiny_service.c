/* The trivial service of bench/runtime-bench: one static binary that every manager runs the same way, with no
 * shell, no environment and no arguments. The bench hardlinks it as DIR/<service>/run next to a file
 * DIR/<service>/tiny.conf, which the binary finds through argv[0]'s directory (s6-supervise and runsv exec
 * "./run" in the service directory; dynamod and dinit exec DIR/<service>/run by its absolute path):
 *
 *   line 1: the mark directory
 *   line 2: "1" to signal readiness s6-style (a newline on fd 3, then close it), anything else: no readiness
 *
 * It takes CLOCK_MONOTONIC first thing, writes "<ns>\n" to <mark dir>/<pid>, signals readiness if asked and
 * waits; on SIGTERM it removes its mark and exits 0.
 *
 * `run report FIFO` (the bench's "all up" reporter, started by dynamod and dinit once all N services are
 * up) writes its own start time "<ns>\n" to FIFO and exits 0. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char mark[512];

static void on_term(int sig) {
  (void)sig;
  if (mark[0]) unlink(mark);
  _exit(0);
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_ns(int fd, long long ns) {
  char text[32];
  int n = snprintf(text, sizeof text, "%lld\n", ns);
  if (write(fd, text, (size_t)n) < 0) {}
}

int main(int argc, char** argv) {
  long long started = now_ns();
  if (argc >= 3 && strcmp(argv[1], "report") == 0) {
    int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
    if (fd < 0) return 1;
    write_ns(fd, started);
    close(fd);
    return 0;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);

  /* <dir of argv[0]>/tiny.conf */
  char conf_path[512], conf[480];
  const char* self = argc > 0 ? argv[0] : "";
  const char* slash = strrchr(self, '/');
  int dir_len = slash ? (int)(slash - self) + 1 : 0;
  snprintf(conf_path, sizeof conf_path, "%.*stiny.conf", dir_len, self);
  int cfd = open(conf_path, O_RDONLY | O_CLOEXEC);
  ssize_t len = cfd >= 0 ? read(cfd, conf, sizeof conf - 1) : -1;
  if (cfd >= 0) close(cfd);
  conf[len > 0 ? len : 0] = 0;
  char* ready = strchr(conf, '\n');
  if (ready) *ready++ = 0;

  if (conf[0]) {
    snprintf(mark, sizeof mark, "%s/%d", conf, (int)getpid());
    int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      write_ns(fd, started);
      close(fd);
    }
  }
  if (ready && ready[0] == '1') {
    if (write(3, "\n", 1) < 0) {}
    close(3);
  }
  for (;;) pause();
}
