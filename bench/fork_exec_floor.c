/* The physical floor for bench/runtime-bench: posix_spawn the tiny service N times in a loop (no
 * supervision at all), print "spawned", wait for a line on stdin, then SIGTERM and reap them all and
 * print "stopped <ms>". The caller measures the start against the services' own marks, as for the
 * supervisors. */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s N /path/to/tiny_service\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  char* args[] = {argv[2], NULL};
  for (int i = 0; i < n; ++i) {
    if (posix_spawn(&pids[i], argv[2], NULL, NULL, args, environ) != 0) return 1;
  }
  printf("spawned\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  double t1 = now_ms();
  for (int i = 0; i < n; ++i) kill(pids[i], SIGTERM);
  for (int i = 0; i < n; ++i) waitpid(pids[i], NULL, 0);
  printf("stopped %.1f\n", now_ms() - t1);
  return 0;
}
