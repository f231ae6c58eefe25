/* The QEMU isolation tests' service program (static, so it runs in the bare guest):
 *   hog COUNTFILE N      allocate and touch memory until killed, the first N runs (counted in COUNTFILE);
 *                        then sleep, so a restarted hog settles instead of exhausting restart intensity
 *   forkbomb             fork sleeping children until fork fails; print how many; then sleep
 *   spin                 burn CPU forever
 *   daemonize PIDFILE    double-fork a daemon (new session, ignores SIGTERM) that writes PIDFILE; sleep
 *   syscalls             try mount, reboot, swapon, ptrace; print "SYSCALL name: errno-name" each
 *   creds [SUID]         print ids, capability sets and no_new_privs; try to become root again, and
 *                        run SUID (a setuid-root copy of this program) to see whether exec does
 *   euid                 print the effective uid (run setuid-root to see whether exec grants root)
 *   notify MSG...        send each MSG ("\n" for a newline) to $NOTIFY_SOCKET from this process; then sleep
 *   claim-daemon         double-fork a daemon (outside our ancestry, inside our cgroup), send MAINPID=<it>
 *                        from this process; then sleep
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/swap.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* errno_name(int e) {
  switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case ENOTBLK: return "ENOTBLK";
    case EAGAIN: return "EAGAIN";
    default: return strerror(e);
  }
}

static void report(const char* name, long rc) {
  printf("SYSCALL %s: %s\n", name, errno_name(rc < 0 ? errno : 0));
  fflush(stdout);
}

static void status_line(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, key, strlen(key)) == 0) printf("CRED %s", line);
  }
  if (f) fclose(f);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "hog") == 0 && argc > 3) {
    int runs = 0;
    FILE* f = fopen(argv[2], "r");
    if (f) {
      if (fscanf(f, "%d", &runs) != 1) runs = 0;
      fclose(f);
    }
    f = fopen(argv[2], "w");
    if (f) {
      fprintf(f, "%d\n", runs + 1);
      fclose(f);
    }
    if (runs >= atoi(argv[3])) {
      printf("HOG settled after %d runs\n", runs);
      for (;;) pause();
    }
    for (size_t total = 0;; total += 1 << 20) {
      char* p = malloc(1 << 20);
      if (!p) return 1;
      memset(p, 0x5a, 1 << 20);
      if (total % (8 << 20) == 0) printf("HOG %zu MiB\n", total >> 20);
    }
  }
  if (strcmp(what, "forkbomb") == 0) {
    int forked = 0;
    for (;;) {
      pid_t pid = fork();
      if (pid == 0) {
        pause();
        _exit(0);
      }
      if (pid < 0) {
        printf("FORKBOMB forked %d, then %s\n", forked, errno_name(errno));
        break;
      }
      ++forked;
    }
    for (;;) pause();
  }
  if (strcmp(what, "spin") == 0) {
    for (volatile unsigned long i = 0;; ++i) {
    }
  }
  if (strcmp(what, "daemonize") == 0 && argc > 2) {
    pid_t child = fork();
    if (child == 0) {
      setsid();
      if (fork() == 0) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        FILE* f = fopen(argv[2], "w");
        if (f) {
          fprintf(f, "%d\n", getpid());
          fclose(f);
        }
        for (;;) pause();
      }
      _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("DAEMONIZED\n");
    for (;;) pause();
  }
  if (strcmp(what, "syscalls") == 0) {
    report("mount", mount("none", "/mnt", "tmpfs", 0, ""));
    report("reboot", reboot(RB_DISABLE_CAD));
    report("swapon", swapon("/nonexistent-swap", 0));
    report("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
    report("getpid", getpid());
    printf("SYSCALLS done\n");
    for (;;) pause();
  }
  if (strcmp(what, "creds") == 0) {
    printf("CRED uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
    status_line("CapInh");
    status_line("CapPrm");
    status_line("CapEff");
    status_line("CapBnd");
    status_line("CapAmb");
    status_line("NoNewPrivs");
    printf("CRED setuid(0): %s\n", errno_name(setuid(0) < 0 ? errno : 0));
    printf("CRED euid now=%d\n", (int)geteuid());
    if (argc > 2) {  /* a setuid-root program: does exec make us root again? */
      pid_t child = fork();
      if (child == 0) {
        execl(argv[2], argv[2], "euid", (char*)NULL);
        printf("EUID exec failed: %s\n", errno_name(errno));
        _exit(127);
      }
      waitpid(child, NULL, 0);
    }
    for (;;) pause();
  }
  if (strcmp(what, "euid") == 0) {
    printf("EUID %d\n", (int)geteuid());
    return 0;
  }
  if (strcmp(what, "notify") == 0 || strcmp(what, "claim-daemon") == 0) {
    const char* path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || strlen(path) >= sizeof addr.sun_path) return 3;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    char message[512];
    if (strcmp(what, "claim-daemon") == 0) {
      int pipefd[2];
      if (pipe(pipefd) < 0) return 3;
      if (fork() == 0) {
        setsid();
        pid_t daemon = fork();
        if (daemon == 0) {
          for (;;) pause();
        }
        write(pipefd[1], &daemon, sizeof daemon);
        _exit(0);
      }
      pid_t daemon = 0;
      read(pipefd[0], &daemon, sizeof daemon);
      wait(NULL);
      snprintf(message, sizeof message, "MAINPID=%d", (int)daemon);
      sendto(fd, message, strlen(message), 0, (struct sockaddr*)&addr, sizeof addr);
      printf("CLAIMED %d\n", (int)daemon);
    }
    for (int i = 2; i < argc && strcmp(what, "notify") == 0; ++i) {
      size_t n = 0;
      for (const char* p = argv[i]; *p && n + 1 < sizeof message; ++p) {
        if (p[0] == '\\' && p[1] == 'n') {
          message[n++] = '\n';
          ++p;
        } else {
          message[n++] = *p;
        }
      }
      sendto(fd, message, n, 0, (struct sockaddr*)&addr, sizeof addr);
    }
    printf("NOTIFIED\n");
    fflush(stdout);
    for (;;) pause();
  }
  fprintf(stderr, "usage: isolation_probe hog COUNTFILE N|forkbomb|spin|daemonize PIDFILE|syscalls|creds|euid|notify MSG...|claim-daemon\n");
  return 2;
}
