/* The process-wide state, libtp's one global: crt0's record of the auxv and
 * the context built from it on first use. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sys/auxv.h>

#include "tp_internal.h"

/* Zero-initialised (.bss): crt0 writes `boot` before the image is relocated,
 * which needs no relocation of its own. */
struct tp_process tpi_process;

_Static_assert(PTHREAD_ONCE_INIT == 0, "tpi_process.once starts as PTHREAD_ONCE_INIT in .bss");

/* getauxval() answers 0 both for a missing entry and for a 0 value (slot 0):
 * errno tells them apart. */
static uint64_t aux(unsigned long tag, uint32_t bit, uint32_t* present) {
  errno = 0;
  const unsigned long v = getauxval(tag);
  if (v != 0 || errno != ENOENT) *present |= bit;
  return v;
}

static void read_auxv(struct tp_boot* b) {
  const int saved_errno = errno;
  uint32_t present = 0;
  b->abi_version = aux(AT_TP_ABI_VERSION, TP_BOOT_HAS_ABI_VERSION, &present);
  b->slot_index = aux(AT_TP_SLOT_INDEX, TP_BOOT_HAS_SLOT_INDEX, &present);
  b->slot_base = aux(AT_TP_SLOT_BASE, TP_BOOT_HAS_SLOT_BASE, &present);
  b->slot_size = aux(AT_TP_SLOT_SIZE, TP_BOOT_HAS_SLOT_SIZE, &present);
  b->arena_base = aux(AT_TP_ARENA_BASE, TP_BOOT_HAS_ARENA_BASE, &present);
  b->slot_count = aux(AT_TP_SLOT_COUNT, TP_BOOT_HAS_SLOT_COUNT, &present);
  b->control = aux(AT_TP_CONTROL, TP_BOOT_HAS_CONTROL, &present);
  b->present = present;
  errno = saved_errno;
}

static void init_once(void) {
  /* crt0's record when it found the space's entries; otherwise ask glibc
   * (also for a dynamic program, whose initial stack a preloaded library may
   * have rearranged before crt0 walked it). */
  struct tp_boot boot = tpi_process.boot;
  if (!boot.recorded || !(boot.present & TP_BOOT_HAS_CONTROL)) read_auxv(&boot);
  tpi_process.status = tpi_ctx_init(&tpi_process.ctx, &boot);
}

/* fork() in a threadproc gives the child its own mm: a copy of the whole
 * space that nobody else sees. Its control region is a stale private copy
 * (a tp_wait there would never be woken), so the child is outside the space.
 * posix_spawn and vfork children share the mm, run no fork handlers, and
 * exec at once. Registered from a constructor, so before any fork. */
static void child_after_fork(void) { __atomic_store_n(&tpi_process.forked, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void register_fork_handler(void) {
  (void)pthread_atfork(NULL, NULL, child_after_fork);
}

const struct tp_ctx* tpi_process_ctx(void) {
  pthread_once(&tpi_process.once, init_once);
  if (__atomic_load_n(&tpi_process.forked, __ATOMIC_RELAXED)) return NULL;
  return tpi_process.status == TP_OK ? &tpi_process.ctx : NULL;
}

int tpi_process_status(void) {
  pthread_once(&tpi_process.once, init_once);
  if (__atomic_load_n(&tpi_process.forked, __ATOMIC_RELAXED)) return TP_ENOSPACE;
  return tpi_process.status;
}

void tpi_process_install(const struct tp_ctx* ctx) {
  pthread_once(&tpi_process.once, init_once);
  if (ctx) tpi_process.ctx = *ctx;
  tpi_process.status = ctx ? TP_OK : TP_ENOSPACE;
}
