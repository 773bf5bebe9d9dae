/* raise_signal SIG: dies by SIG. SIG is a name with or without "SIG" (SEGV, SIGTERM...).
 * ABRT calls abort(); NULLDEREF writes through a null pointer (a real fault, not raise). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named_signal {
  const char *name;
  int number;
};

static const struct named_signal signals[] = {
    {"SEGV", SIGSEGV}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"ILL", SIGILL},
    {"INT", SIGINT},   {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"HUP", SIGHUP},
    {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"ALRM", SIGALRM},
    {"PIPE", SIGPIPE}, {"TRAP", SIGTRAP}, {"SYS", SIGSYS},
};

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: raise_signal SIG|ABRT|NULLDEREF\n");
    return 2;
  }
  const char *name = argv[1];
  if (strncmp(name, "SIG", 3) == 0)
    name += 3;
  fflush(stdout);
  if (strcmp(name, "ABRT") == 0)
    abort();
  if (strcmp(name, "NULLDEREF") == 0) {
    volatile int *volatile null_pointer = NULL;
    *null_pointer = 1;
    return 3; /* not reached */
  }
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; ++i) {
    if (strcmp(name, signals[i].name) == 0) {
      /* A signal the caller ignored would not kill us: restore the default first. */
      signal(signals[i].number, SIG_DFL);
      raise(signals[i].number);
      fprintf(stderr, "raise_signal: still alive after SIG%s\n", name);
      return 3;
    }
  }
  fprintf(stderr, "raise_signal: unknown signal %s\n", argv[1]);
  return 2;
}
