/* The program the launch benchmark starts: a dynamically linked hello world. */
#include <stdio.h>

int main(void) {
  puts("hello, world");
  return 0;
}
