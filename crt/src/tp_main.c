/* Entering main(): crt0's __wrap_main reports it in the slot table, so other
 * programs look up this program's exports only once its constructors ran
 * (glibc runs the executable's constructors before it calls main). */
#include "tp_internal.h"

void tpi_enter_main(const struct tp_ctx* ctx) {
  if (!ctx) return;
  __atomic_or_fetch(&ctx->slots[ctx->self].flags, TP_SLOT_IN_MAIN, __ATOMIC_SEQ_CST);
  /* tp_wait("program/var") sleeps on the registry generation. */
  tpi_bump_registry_generation(ctx);
}
