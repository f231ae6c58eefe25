/* The trivial service used by bench/runtime-bench: a static binary that marks its start in
 * $TINY_MARK_DIR/<pid> ("<monotonic ns>"), optionally says READY=1 on $NOTIFY_SOCKET (TINY_NOTIFY=1),
 * waits, and removes its mark when terminated. The same binary runs under dynamod, s6 and runit. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char mark[512];

static void on_term(int sig) {
  (void)sig;
  if (mark[0]) unlink(mark);
  _exit(0);
}

static void notify_ready(void) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr*)&addr, sizeof addr);
  close(fd);
}

int main(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  signal(SIGTERM, on_term);
  const char* dir = getenv("TINY_MARK_DIR");
  if (dir && *dir) {
    snprintf(mark, sizeof mark, "%s/%d", dir, (int)getpid());
    int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char text[64];
      int n = snprintf(text, sizeof text, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
      if (write(fd, text, (size_t)n) < 0) {}
      close(fd);
    }
  }
  const char* notify = getenv("TINY_NOTIFY");
  if (notify && notify[0] == '1') notify_ready();
  for (;;) pause();
}
