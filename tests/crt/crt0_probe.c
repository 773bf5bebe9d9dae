/* Linked with crt0 (-e __tp_start, --wrap=main, tp_crt0.o, libtp.a) and run
 * directly, outside any space: it must run exactly as a normal program.
 * Checks what crt0 could break — the entry, argc/argv/envp, constructors,
 * the rtld fini pointer in %rdx (used at exit), atexit — and exits with the
 * status given as its last argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "threadprocs/tp.h"

extern char** environ;
extern void __tp_start(void);

static int constructed;
__attribute__((constructor)) static void construct(void) { constructed = 1; }
static void at_exit(void) { puts("atexit ran"); }

static int fail(const char* what) {
  printf("FAIL: %s\n", what);
  return 99;
}

int main(int argc, char** argv, char** envp) {
  if (getauxval(AT_ENTRY) != (unsigned long)&__tp_start) return fail("the entry is not __tp_start");
  if (!constructed) return fail("constructors did not run before main");
  if (envp != environ) return fail("envp is not environ");
  if (argc != 4) return fail("argc");
  if (strcmp(argv[1], "one") != 0 || strcmp(argv[2], "two words") != 0 || argv[4] != NULL)
    return fail("argv");
  const char* v = getenv("TP_CRT0_PROBE");
  if (!v || strcmp(v, "yes") != 0) return fail("the environment");
  if (tp_in_space() || tp_lookup("x", NULL) != TP_ENOSPACE) return fail("libtp thinks it is in a space");
  if (atexit(at_exit) != 0) return fail("atexit");
  printf("crt0 probe ok: argc=%d\n", argc);
  return atoi(argv[3]);
}
