/* The program bench/many_programs starts 1000 times: a dynamically linked C
 * program that says it runs (one byte on stdout), then sleeps in read(2) on
 * stdin until the benchmark closes the other end of the pipe. */
#include <unistd.h>

int main(void) {
  char c = 'r';
  if (write(1, &c, 1) != 1) return 1;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}
