/* print_env: prints every environ entry as it is (no sorting, no filtering), one per line. */
#include <stdio.h>

extern char **environ;

int main(void) {
  for (char **entry = environ; *entry != NULL; ++entry) {
    fputs(*entry, stdout);
    fputc('\n', stdout);
  }
  return 0;
}
