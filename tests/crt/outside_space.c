/* A C program linked with libtp the ordinary way and run directly: every
 * call says "not in a space", and the program goes on (exit 0). */
#include <stdio.h>

#include "threadprocs/tp.h"

static int value = 7;
TP_EXPORT(value);

int main(void) {
  void* p = NULL;
  struct tp_self_info self;
  const int results[] = {tp_self(&self), tp_publish("value", &value), tp_lookup("value", &p),
                         tp_wait("other/value", 1000000, &p), tp_hold(&value), tp_owner(&value)};
  printf("in space: %d\n", tp_in_space());
  for (unsigned i = 0; i < sizeof results / sizeof results[0]; ++i) {
    printf("%d: %s\n", results[i], tp_strerror(results[i]));
    if (results[i] != TP_ENOSPACE) return 1;
  }
  return 0;
}
