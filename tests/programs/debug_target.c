/* debug_target PIDFILE MODE: a program for the debugger tests (tests/integration/debug_test.cpp).
 * Built with -O0 -g, so gdb finds each function below and its source lines. It prints one line
 * "line N" (N: the source line the interesting frame stops at), then writes getpid() to PIDFILE
 * (atomically, like sleeper) once it is in place, and waits:
 *   wait     the main thread waits in tp_debug_wait_here(), at line N, until killed.
 *   threads  four threads wait in tp_debug_worker() (line N), the main thread in
 *            tp_debug_join(), until killed.
 *   crash    writes through a null pointer in tp_debug_crash_here() (line N); its SIGSEGV
 *            handler stops the program (SIGSTOP), the way a "wait for the debugger" crash
 *            handler does. Once continued, the handler returns and the program dies by SIGSEGV.
 *   clock    calls clock_gettime() (the vDSO, shared by every program of a space) from
 *            tp_debug_clock_loop() (line N) every millisecond, until killed. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static const char *pid_file;
static int worker_line;  /* where tp_debug_worker() waits */
__thread int tp_debug_tls = 7;  /* thread-local: the tests print it through gdb */
static int parked;       /* workers past the barrier, about to pause() */

static void write_pid_file(void) {
  size_t length = strlen(pid_file) + 5;
  char *temporary = malloc(length);
  if (temporary == NULL)
    exit(1);
  snprintf(temporary, length, "%s.tmp", pid_file);
  FILE *file = fopen(temporary, "w");
  if (file == NULL) {
    perror("debug_target: fopen");
    exit(1);
  }
  fprintf(file, "%ld\n", (long)getpid());
  if (fclose(file) != 0 || rename(temporary, pid_file) != 0) {
    perror("debug_target: writing the pid file");
    exit(1);
  }
  free(temporary);
}

static void announce(int line) {
  printf("line %d\n", line);
  fflush(stdout);
}

NOINLINE void tp_debug_wait_here(void) {
  announce(__LINE__ + 3);
  write_pid_file();
  for (;;)
    pause();
}

static pthread_barrier_t started;

NOINLINE void *tp_debug_worker(void *arg) {
  (void)arg;
  worker_line = __LINE__ + 5;
  tp_debug_tls = 8;
  pthread_barrier_wait(&started);
  __atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST);
  for (;;)
    pause();
  return NULL;
}

NOINLINE void tp_debug_join(pthread_t *threads, int count) {
  for (int i = 0; i < count; ++i)
    pthread_join(threads[i], NULL);
}

static void stop_on_crash(int sig) {
  (void)sig;
  raise(SIGSTOP);  /* "attach a debugger now"; returning re-runs the fault with SIG_DFL */
}

NOINLINE void tp_debug_crash_here(volatile int *where) {
  announce(__LINE__ + 2);
  write_pid_file();
  *where = 42;
}

NOINLINE void tp_debug_clock_loop(void) {
  announce(__LINE__ + 4);
  write_pid_file();
  struct timespec now, pause_for = {0, 1000 * 1000};
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    nanosleep(&pause_for, NULL);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: debug_target PIDFILE wait|threads|crash|clock\n");
    return 2;
  }
  pid_file = argv[1];
  const char *mode = argv[2];
  if (strcmp(mode, "wait") == 0) {
    tp_debug_wait_here();
  } else if (strcmp(mode, "threads") == 0) {
    enum { kThreads = 4 };
    pthread_t threads[kThreads];
    pthread_barrier_init(&started, NULL, kThreads + 1);
    for (int i = 0; i < kThreads; ++i)
      if (pthread_create(&threads[i], NULL, tp_debug_worker, NULL) != 0)
        return 1;
    pthread_barrier_wait(&started);
    while (__atomic_load_n(&parked, __ATOMIC_SEQ_CST) < kThreads)
      usleep(1000);
    announce(worker_line);
    write_pid_file();
    tp_debug_join(threads, kThreads);
  } else if (strcmp(mode, "crash") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    tp_debug_crash_here(NULL);
  } else if (strcmp(mode, "clock") == 0) {
    tp_debug_clock_loop();
  } else {
    fprintf(stderr, "debug_target: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
