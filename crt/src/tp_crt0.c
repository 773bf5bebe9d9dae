/* crt0, C part: what the entry shim (tp_start.S) calls before glibc starts,
 * and the wrapper of main() (linked with --wrap=main).
 *
 * tpi_crt0_record runs first thing in the program: in a static-PIE before the
 * image relocated itself, and before any TLS exists (FS is 0). So this file is
 * compiled -ffreestanding -fno-builtin -fno-stack-protector -fno-jump-tables
 * and the function may only: read the initial stack, and write
 * tpi_process.boot — a hidden global, reached RIP-relative, holding no
 * pointer that would need relocating. No libc call, no GOT load, no string
 * or memory function the compiler could emit. */
#include <stdint.h>

#include "tp_internal.h"

/* sp -> argc, argv[0..argc-1], NULL, envp..., NULL, auxv (type, value)..., AT_NULL */
void tpi_crt0_record(const uint64_t* sp) {
  const uint64_t argc = sp[0];
  const uint64_t* p = sp + 1 + argc + 1; /* envp */
  while (*p != 0) ++p;
  /* The auxv follows the NULL ending envp. In a dynamic program, preloaded
   * constructors ran before this entry point, and one that removes a variable
   * by shifting environ down (the space's tp_preload.so does, for LD_PRELOAD)
   * leaves a second NULL behind: skip every NULL word. The auxv's first type
   * is never AT_NULL (0): it always holds the kernel's (or host's) entries. */
  while (*p == 0) ++p;
  struct tp_boot* b = &tpi_process.boot;
  uint32_t present = 0;
  for (; p[0] != 0 /* AT_NULL */; p += 2) {
    const uint64_t type = p[0], value = p[1];
    if (type == AT_TP_ABI_VERSION) {
      b->abi_version = value;
      present |= TP_BOOT_HAS_ABI_VERSION;
    } else if (type == AT_TP_SLOT_INDEX) {
      b->slot_index = value;
      present |= TP_BOOT_HAS_SLOT_INDEX;
    } else if (type == AT_TP_SLOT_BASE) {
      b->slot_base = value;
      present |= TP_BOOT_HAS_SLOT_BASE;
    } else if (type == AT_TP_SLOT_SIZE) {
      b->slot_size = value;
      present |= TP_BOOT_HAS_SLOT_SIZE;
    } else if (type == AT_TP_ARENA_BASE) {
      b->arena_base = value;
      present |= TP_BOOT_HAS_ARENA_BASE;
    } else if (type == AT_TP_SLOT_COUNT) {
      b->slot_count = value;
      present |= TP_BOOT_HAS_SLOT_COUNT;
    } else if (type == AT_TP_CONTROL) {
      b->control = value;
      present |= TP_BOOT_HAS_CONTROL;
    }
  }
  b->present = present;
  /* Outside a space present is 0: libtp then finds no control region, and the
   * program runs exactly as it would without crt0. */
  b->recorded = 1;
}

/* --wrap=main: glibc's __libc_start_main calls this instead of main, after
 * the executable's constructors ran. */
extern int __real_main(int argc, char** argv, char** envp);
int __wrap_main(int argc, char** argv, char** envp) __attribute__((visibility("hidden")));

int __wrap_main(int argc, char** argv, char** envp) {
  tpi_enter_main(tpi_process_ctx());
  return __real_main(argc, argv, envp);
}
