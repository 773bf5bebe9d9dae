/* wait_signal: installs handlers for the signals tp-run forwards, writes "ready\n" to
 * stdout, then waits (60 s at most) for one of them; prints "got SIGxxx" and exits 0.
 * Exits 1 if nothing arrives in time. */
#define _GNU_SOURCE 1 /* ppoll */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct named_signal {
  int number;
  const char *name;
};

static const struct named_signal handled[] = {
    {SIGINT, "SIGINT"},   {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},
    {SIGHUP, "SIGHUP"},   {SIGQUIT, "SIGQUIT"}, {SIGWINCH, "SIGWINCH"}, {SIGALRM, "SIGALRM"},
    {SIGCONT, "SIGCONT"}, {SIGPIPE, "SIGPIPE"},
};
enum { kHandled = sizeof handled / sizeof handled[0] };

static volatile sig_atomic_t received = 0;

static void on_signal(int number) { received = number; } /* async-signal-safe */

int main(void) {
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int i = 0; i < kHandled; ++i)
    sigaddset(&blocked, handled[i].number);
  /* Blocked until we wait, so a signal that arrives right after "ready" is not lost. */
  sigprocmask(SIG_BLOCK, &blocked, NULL);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < kHandled; ++i) {
    if (sigaction(handled[i].number, &action, NULL) != 0) {
      perror("wait_signal: sigaction");
      return 1;
    }
  }
  static const char ready[] = "ready\n";
  if (write(1, ready, sizeof ready - 1) != (ssize_t)(sizeof ready - 1)) {
    perror("wait_signal: write");
    return 1;
  }

  sigset_t during_wait;
  sigemptyset(&during_wait);
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 60;
  while (received == 0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > deadline.tv_sec ||
        (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
      fprintf(stderr, "wait_signal: no signal within 60 s\n");
      return 1;
    }
    struct timespec left = {deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
    if (left.tv_nsec < 0) {
      left.tv_nsec += 1000000000L;
      left.tv_sec -= 1;
    }
    /* ppoll unblocks the signals only while it sleeps: no lost-wakeup window. */
    if (ppoll(NULL, 0, &left, &during_wait) < 0 && errno != EINTR) {
      perror("wait_signal: ppoll");
      return 1;
    }
  }
  for (int i = 0; i < kHandled; ++i) {
    if (handled[i].number == received)
      printf("got %s\n", handled[i].name);
  }
  return 0;
}
