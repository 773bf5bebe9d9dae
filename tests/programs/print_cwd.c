/* print_cwd: prints getcwd() and a newline. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL) {
    perror("print_cwd: getcwd");
    return 1;
  }
  printf("%s\n", cwd);
  return 0;
}
