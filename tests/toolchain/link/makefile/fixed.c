/* Linked for slot 5: prints where it was loaded; with an argument, stays
 * until its stdin closes. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <threadprocs/tp.h>
#include <unistd.h>

static int first(struct dl_phdr_info* info, size_t size, void* bias) {
  (void)size;
  *(ElfW(Addr)*)bias = info->dlpi_addr;  /* the executable comes first */
  return 1;
}

int main(int argc, char** argv) {
  (void)argv;
  struct tp_self_info self;
  if (tp_self(&self) != TP_OK) return 1;
  ElfW(Addr) bias = 0;
  dl_iterate_phdr(first, &bias);
  printf("slot %u, relocation delta %#lx\n", self.slot, (unsigned long)bias);
  fflush(stdout);
  if (argc > 1) {
    char c;
    while (read(0, &c, 1) > 0) {
    }
  }
  return 0;
}
