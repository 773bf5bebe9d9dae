/* exit_code N: exits with status N (0..255). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: exit_code N\n");
    return 2;
  }
  char *end = NULL;
  long code = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || code < 0 || code > 255) {
    fprintf(stderr, "exit_code: not a number in 0..255: %s\n", argv[1]);
    return 2;
  }
  exit((int)code);
}
