/* Prints what libtp says about this program: in a space or not, its name. */
#include <stdio.h>
#include <threadprocs/tp.h>

int main(void) {
  struct tp_self_info self;
  int rc = tp_self(&self);
  if (rc != TP_OK) {
    printf("not in a space: %s\n", tp_strerror(rc));
    return 0;
  }
  printf("in a space: slot %u, name %s\n", self.slot, self.name);
  return 0;
}
