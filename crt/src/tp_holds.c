/* Holds: holds[holder][owner] counts how many holds program `holder` has on
 * slot `owner`. When a program ends, the host stores EXITING in its slot's
 * state (seq_cst) and then sums the slot's column: a non-zero sum keeps the
 * memory (HELD) until tp_release brings it to zero.
 *
 * The race with an ending owner is settled by ordering alone: we increment
 * (seq_cst) and then load the state (seq_cst); the host stores EXITING
 * (seq_cst) and then sums. Either the host sees our increment, or we see
 * EXITING or FREE — never neither. */
#include <limits.h>

#include "tp_internal.h"

static uint32_t* hold_count(const struct tp_ctx* ctx, uint32_t owner) {
  return &ctx->holds[(uint64_t)ctx->self * ctx->slot_count + owner];
}

int tpi_hold_slot(const struct tp_ctx* ctx, uint32_t o) {
  uint32_t* count = hold_count(ctx, o);
  uint32_t* state = &ctx->slots[o].state;
  __atomic_add_fetch(count, 1u, __ATOMIC_SEQ_CST);
  for (;;) {
    const uint32_t st = __atomic_load_n(state, __ATOMIC_SEQ_CST);
    switch (st) {
      case TP_SLOT_RUNNING:
      case TP_SLOT_HELD:
      case TP_SLOT_KEPT:
        return TP_OK;
      case TP_SLOT_EXITING:
        /* The host is deciding; it wakes the state word when it has. */
        tpi_futex_wait(state, st, 1000 * 1000);
        continue;
      default: /* TP_SLOT_FREE (or a state we do not know): nothing to keep */
        __atomic_sub_fetch(count, 1u, __ATOMIC_SEQ_CST);
        return TP_EGONE;
    }
  }
}

int tpi_release_slot(const struct tp_ctx* ctx, uint32_t o) {
  uint32_t* count = hold_count(ctx, o);
  uint32_t c = __atomic_load_n(count, __ATOMIC_RELAXED);
  do {
    if (c == 0) return TP_ENOTHELD;
  } while (!__atomic_compare_exchange_n(count, &c, c - 1u, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  if (c == 1u) {
    /* The last hold: the host may be waiting to free the slot. */
    __atomic_add_fetch(&ctx->control->release_generation, 1u, __ATOMIC_SEQ_CST);
    tpi_futex_wake(&ctx->control->release_generation, INT_MAX);
  }
  return TP_OK;
}

int tpi_hold(const struct tp_ctx* ctx, const void* p) {
  const int o = tpi_owner(ctx, p);
  return o < 0 ? o : tpi_hold_slot(ctx, (uint32_t)o);
}

int tpi_release(const struct tp_ctx* ctx, const void* p) {
  const int o = tpi_owner(ctx, p);
  return o < 0 ? o : tpi_release_slot(ctx, (uint32_t)o);
}
