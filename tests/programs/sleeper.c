/* sleeper PIDFILE [ARGS...]: writes getpid() to PIDFILE (atomically: a temporary file
 * renamed into place, so a reader never sees half a number), then sleeps until killed.
 * ARGS are ignored; they let tests look for them in `tp-space ps`. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sleeper PIDFILE [ARGS...]\n");
    return 2;
  }
  size_t length = snprintf(NULL, 0, "%s.tmp", argv[1]) + 1;
  char *temporary = malloc(length);
  if (temporary == NULL)
    return 1;
  snprintf(temporary, length, "%s.tmp", argv[1]);
  FILE *file = fopen(temporary, "w");
  if (file == NULL) {
    perror("sleeper: fopen");
    return 1;
  }
  fprintf(file, "%ld\n", (long)getpid());
  if (fclose(file) != 0 || rename(temporary, argv[1]) != 0) {
    perror("sleeper: writing the pid file");
    return 1;
  }
  free(temporary);
  for (;;)
    pause();
}
