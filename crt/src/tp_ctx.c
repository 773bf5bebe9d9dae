/* Building a context from the AT_TP_* values, and the questions it answers
 * without touching shared state: who am I, who owns this address. */
#include <stddef.h>

#include "tp_internal.h"

/* end of [offset, offset + count * size) lies within total, without overflow */
static int fits(uint64_t offset, uint64_t count, uint64_t size, uint64_t total) {
  if (offset > total) return 0;
  if (size != 0 && count > (total - offset) / size) return 0;
  return 1;
}

int tpi_ctx_init(struct tp_ctx* ctx, const struct tp_boot* boot) {
  *ctx = (struct tp_ctx){0};
  /* No control region: an ordinary process (or a host older than the region). */
  if (!(boot->present & TP_BOOT_HAS_CONTROL) || boot->control == 0) return TP_ENOSPACE;
  if ((boot->present & TP_BOOT_HAS_ALL) != TP_BOOT_HAS_ALL) return TP_EABI;
  if (boot->abi_version != TP_ABI_VERSION) return TP_EABI;

  struct tp_control_header* h = (struct tp_control_header*)(uintptr_t)boot->control;
  if (boot->control % 8 != 0) return TP_EABI;
  if (h->magic != TP_CONTROL_MAGIC || h->abi_version != TP_ABI_VERSION) return TP_EABI;
  const uint64_t n = h->slot_count;
  const uint64_t total = h->total_size;
  /* 2^20 slots keep n * n (the holds matrix) and every slot index far from overflow. */
  if (n == 0 || n > (1u << 20) || n != boot->slot_count || boot->slot_index >= n) return TP_EABI;
  if (h->registry_capacity == 0) return TP_EABI;
  if (h->slots_offset < sizeof *h || h->slots_offset % 8 || h->registry_offset % 8 ||
      h->holds_offset % 4)
    return TP_EABI;
  if (!fits(h->slots_offset, n, sizeof(struct tp_slot_info), total) ||
      !fits(h->registry_offset, h->registry_capacity, sizeof(struct tp_registry_entry), total) ||
      !fits(h->holds_offset, n * n, sizeof(uint32_t), total))
    return TP_EABI;
  /* The arena: slot i is [arena_base + i * slot_size, + slot_size). */
  if (boot->slot_size == 0 || n > UINT64_MAX / boot->slot_size ||
      boot->arena_base > UINT64_MAX - n * boot->slot_size ||
      boot->slot_base != boot->arena_base + boot->slot_index * boot->slot_size)
    return TP_EABI;

  unsigned char* base = (unsigned char*)h;
  ctx->control = h;
  ctx->slots = (struct tp_slot_info*)(base + h->slots_offset);
  ctx->registry = (struct tp_registry_entry*)(base + h->registry_offset);
  ctx->holds = (uint32_t*)(base + h->holds_offset);
  ctx->registry_capacity = h->registry_capacity;
  ctx->slot_count = (uint32_t)n;
  ctx->self = (uint32_t)boot->slot_index;
  ctx->tag = TP_OWNER_TAG(boot->slot_index);
  ctx->arena_base = boot->arena_base;
  ctx->slot_size = boot->slot_size;
  ctx->slot_base = boot->slot_base;
  return TP_OK;
}

int tpi_self(const struct tp_ctx* ctx, struct tp_self_info* out) {
  if (!ctx) return TP_ENOSPACE;
  if (!out) return TP_EINVAL;
  out->slot = ctx->self;
  out->slot_count = ctx->slot_count;
  out->slot_base = ctx->slot_base;
  out->slot_size = ctx->slot_size;
  out->arena_base = ctx->arena_base;
  out->name = ctx->slots[ctx->self].name;
  return TP_OK;
}

int tpi_owner(const struct tp_ctx* ctx, const void* p) {
  if (!ctx) return TP_ENOSPACE;
  const uint64_t a = (uint64_t)(uintptr_t)p;
  if (a < ctx->arena_base) return TP_ENOTARENA;
  const uint64_t index = (a - ctx->arena_base) / ctx->slot_size;
  if (index >= ctx->slot_count) return TP_ENOTARENA;
  return (int)index;
}
