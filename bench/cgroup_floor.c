/* The kernel's floor for bench/scale-qemu: what any supervisor with a cgroup per service must ask of the
 * kernel, with no supervision at all. Start: N times mkdir a cgroup, fork, move the child into it, exec
 * the service. Stop: SIGTERM each, reap each, rmdir each cgroup. Prints "floor <N> up <ms> stop <ms>".
 * Run in a guest of its own (no other services), so the runtime's figures at the same N can be read
 * against how the kernel itself scales with N processes and N sibling cgroups. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s N SERVICE CGROUP_PARENT\n", argv[0]);
    return 2;
  }
  const int n = atoi(argv[1]);
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  char path[4096];
  char* args[] = {argv[2], "100000", NULL};
  const double t0 = now_ms();
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/f%05d", argv[3], i);
    if (mkdir(path, 0755) < 0) {
      perror(path);
      return 1;
    }
    strncat(path, "/cgroup.procs", sizeof path - strlen(path) - 1);
    const pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      const int fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, "0", 1) != 1) _exit(126);
      close(fd);
      execv(argv[2], args);
      _exit(127);
    }
    pids[i] = pid;
  }
  const double t1 = now_ms();
  for (int i = 0; i < n; ++i) kill(pids[i], SIGTERM);
  for (int i = 0; i < n; ++i) {
    int status;
    if (waitpid(pids[i], &status, 0) != pids[i]) return 1;
    snprintf(path, sizeof path, "%s/f%05d", argv[3], i);
    if (rmdir(path) < 0) perror(path);
  }
  printf("floor %d up %.1f stop %.1f\n", n, t1 - t0, now_ms() - t1);
  return 0;
}
