/* Loaded (with mimalloc before it) into every dynamically linked program of
 * a space through LD_PRELOAD, which the host adds. Its one job: give the
 * program back exactly the environment its launcher had, before the program's
 * own code runs.
 *
 * The host sets LD_PRELOAD to "<mimalloc>:<this library>", followed by
 * ":<the launcher's value>" when the launcher had LD_PRELOAD (the last
 * entry, the one ld.so uses, when it had several). Runs as a constructor of a
 * preloaded object: after ld.so has used LD_PRELOAD, before the executable's
 * own constructors and main. Constructors of the executable's shared
 * libraries run earlier and still see the extended value (ld.so initialises
 * preloaded objects after the libraries they do not depend on). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

extern char** environ;

__attribute__((constructor(101))) static void tp_restore_environment(void) {
  Dl_info self;
  if (!dladdr((void*)&tp_restore_environment, &self) || !self.dli_fname) return;
  const size_t self_len = strlen(self.dli_fname);
  for (char** e = environ; e && *e; ++e) {
    if (strncmp(*e, "LD_PRELOAD=", 11) != 0) continue;
    char* value = *e + 11;
    char* ours = strstr(value, self.dli_fname);
    if (!ours) continue; /* not the entry the host extended (ld.so uses the last one) */
    char* rest = ours + self_len;
    if (*rest == '\0') {
      /* The launcher had no LD_PRELOAD: remove the entry (the array ends in NULL). */
      for (char** p = e; *p; ++p) p[0] = p[1];
    } else if (*rest == ':') {
      memmove(value, rest + 1, strlen(rest + 1) + 1); /* its own value, in place */
    }
    return;
  }
}
