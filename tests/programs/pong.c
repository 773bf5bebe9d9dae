/* pong: prints "ready PID\n", then answers every SIGUSR1 with "pong\n" on stdout and exits 0
 * on SIGTERM. The load tests run a thousand of these at once: each one's answer to a signal
 * sent to its tp-run shows that it is alive, scheduled and connected to its launcher. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGUSR1);
  sigaddset(&wanted, SIGTERM);
  /* Blocked before "ready": a signal sent right after it waits for sigwait. */
  if (sigprocmask(SIG_BLOCK, &wanted, NULL) != 0) {
    perror("pong: sigprocmask");
    return 1;
  }
  printf("ready %ld\n", (long)getpid());
  fflush(stdout);
  for (;;) {
    int signal_number = 0;
    if (sigwait(&wanted, &signal_number) != 0) {
      perror("pong: sigwait");
      return 1;
    }
    if (signal_number == SIGTERM)
      return 0;
    fputs("pong\n", stdout);
    fflush(stdout);
  }
}
