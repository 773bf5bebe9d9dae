/* signal_storm: two threads each do at least 20,000 mmap/munmap pairs while a third
 * thread sends them SIGUSR1 as fast as it can (tgkill), until every worker has done its
 * pairs and at least 2,000 signals have been handled. The SIGUSR1 handler is installed
 * with SA_RESTART, so no call may fail: natively mmap and munmap never return EINTR, and a
 * supervised call interrupted before the host took it must be restarted, not failed.
 * Prints a summary and exits 0 if no call failed; else names the first failure, exit 1. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kWorkers = 2, kPairs = 20000, kMinSignals = 2000, kMaxPairs = 5000000 };

static atomic_long handled;
static atomic_int workers_done;
static atomic_int failures;
static atomic_int eintr_failures;
static pid_t worker_tids[kWorkers];
static atomic_int workers_ready;

static void on_usr1(int number) {
  (void)number;
  atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
}

static void report_failure(const char *call, long pair, int error) {
  if (atomic_fetch_add(&failures, 1) == 0)
    fprintf(stderr, "signal_storm: %s of pair %ld failed: %s\n", call, pair,
            strerrorname_np(error));
  if (error == EINTR)
    atomic_fetch_add(&eintr_failures, 1);
}

static void *worker(void *arg) {
  const int index = (int)(long)arg;
  worker_tids[index] = (pid_t)syscall(SYS_gettid);
  atomic_fetch_add(&workers_ready, 1);
  long pair = 0;
  for (; pair < kPairs || (atomic_load(&handled) < kMinSignals && pair < kMaxPairs); ++pair) {
    const size_t length = 4096ul << (pair % 5); /* 4 KiB .. 64 KiB */
    char *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      report_failure("mmap", pair, errno);
      continue;
    }
    p[0] = 1;
    p[length - 1] = 1;
    if (munmap(p, length) != 0)
      report_failure("munmap", pair, errno);
  }
  atomic_fetch_add(&workers_done, 1);
  return NULL;
}

int main(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGUSR1, &action, NULL) != 0) {
    perror("signal_storm: sigaction");
    return 1;
  }
  pthread_t threads[kWorkers];
  for (long i = 0; i < kWorkers; ++i) {
    if (pthread_create(&threads[i], NULL, worker, (void *)i) != 0) {
      fprintf(stderr, "signal_storm: pthread_create failed\n");
      return 1;
    }
  }
  /* This thread is the sender. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  while (atomic_load(&workers_ready) < kWorkers)
    sched_yield();
  long sent = 0;
  while (atomic_load(&workers_done) < kWorkers) {
    for (int i = 0; i < kWorkers; ++i) {
      if (syscall(SYS_tgkill, getpid(), worker_tids[i], SIGUSR1) == 0)
        ++sent;
    }
  }
  for (int i = 0; i < kWorkers; ++i)
    pthread_join(threads[i], NULL);
  const long got = atomic_load(&handled);
  if (atomic_load(&failures) != 0) {
    fprintf(stderr, "signal_storm: %d calls failed (%d with EINTR); %ld signals handled\n",
            atomic_load(&failures), atomic_load(&eintr_failures), got);
    return 1;
  }
  if (got < kMinSignals) {
    fprintf(stderr, "signal_storm: only %ld signals handled (%ld sent)\n", got, sent);
    return 1;
  }
  printf("signal_storm: no mmap or munmap failed; %d+ signals handled during %d+ pairs\n",
         kMinSignals, kWorkers * kPairs);
  return 0;
}
