/* Exports a counter, finds it again through the space as "greeter/visits". */
#include <stdio.h>
#include <threadprocs/tp.h>

const char* greeting(void);
int visits = 41;
TP_EXPORT(visits);

int main(int argc, char** argv) {
  struct tp_self_info self;
  int rc = tp_self(&self);
  if (rc != TP_OK) {
    printf("%s (outside a space: %s)\n", greeting(), tp_strerror(rc));
    return 0;
  }
  char name[64];
  snprintf(name, sizeof name, "%s/visits", self.name);
  void* found = 0;
  rc = tp_lookup(name, &found);
  printf("%s from %s: %s %s\n", greeting(), self.name, name,
         rc != TP_OK ? tp_strerror(rc) : found == &visits ? "is my own counter" : "is somewhere else");
  return argc > 1 ? 3 : 0;
}
