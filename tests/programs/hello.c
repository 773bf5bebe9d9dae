/* hello: the smallest program; built three ways (PIE, static-PIE, non-PIE). */
#include <stdio.h>

int main(void) {
  fputs("hello, world\n", stdout);
  return 0;
}
