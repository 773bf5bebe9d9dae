/* "program/var": a TP_EXPORT record of a running program, found through the
 * slot table. No registry, no call by the exporter: the host writes where the
 * program's export table lies (exports_begin/end, run-time addresses), and the
 * program's records are relocated before it sets TP_SLOT_IN_MAIN. */
#include <stddef.h>
#include <string.h>

#include "tp_internal.h"

#define SLOT_NAME_WORDS (sizeof(((struct tp_slot_info*)0)->name) / 8u)
_Static_assert(offsetof(struct tp_slot_info, name) % 8u == 0, "slot name is word-aligned");

/* What one slot says, read consistently (same generation before and after). */
struct slot_view {
  uint32_t generation;
  uint64_t exports_begin;
  uint64_t exports_end;
  uint64_t name[SLOT_NAME_WORDS];
};

static int live_state(uint32_t state) {
  return state == TP_SLOT_RUNNING || state == TP_SLOT_HELD || state == TP_SLOT_KEPT;
}

/* 1: *v describes a program that reached main() and whose memory is there;
 * 0: nothing to find in this slot now. */
static int slot_read(struct tp_slot_info* s, struct slot_view* v) {
  for (;;) {
    const uint32_t g = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
    if (!live_state(__atomic_load_n(&s->state, __ATOMIC_ACQUIRE))) return 0;
    if (!(__atomic_load_n(&s->flags, __ATOMIC_ACQUIRE) & TP_SLOT_IN_MAIN)) return 0;
    v->exports_begin = __atomic_load_n(&s->exports_begin, __ATOMIC_RELAXED);
    v->exports_end = __atomic_load_n(&s->exports_end, __ATOMIC_RELAXED);
    tpi_load_name(v->name, s->name, SLOT_NAME_WORDS);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->generation, __ATOMIC_RELAXED) == g) {
      v->generation = g;
      return 1;
    }
    /* another program took the slot meanwhile: look again */
  }
}

static int view_has_name(const struct slot_view* v, const char* program, uint32_t len) {
  return tpi_name_is(v->name, sizeof v->name, program, len);
}

/* Walks the table [begin, end) of a program whose memory is held. */
static int table_find(const struct slot_view* v, const char* var, uint64_t* size_out, void** out) {
  const uint64_t begin = v->exports_begin, end = v->exports_end;
  const uint64_t rec = sizeof(struct tp_export_record);
  if (begin == 0 || end < begin || begin % 8 || (end - begin) % rec || (end - begin) / rec > UINT32_MAX)
    return TP_ENOTFOUND; /* no table, or not one the host could have written */
  const size_t var_size = strlen(var) + 1;
  for (uint64_t a = begin; a < end; a += rec) {
    const struct tp_export_record* r = (const struct tp_export_record*)(uintptr_t)a;
    if (!r->name || strncmp(r->name, var, var_size) != 0) continue;
    if (out) *out = r->address;
    if (size_out) *size_out = r->size;
    return TP_OK;
  }
  return TP_ENOTFOUND;
}

int tpi_exports_find(const struct tp_ctx* ctx, const char* program, uint32_t program_len,
                     const char* var, uint64_t* size_out, void** out) {
  if (!ctx) return TP_ENOSPACE;
  struct slot_view v;
  for (uint32_t i = 0; i < ctx->slot_count; ++i) {
    struct tp_slot_info* s = &ctx->slots[i];
    for (;;) {
      if (!slot_read(s, &v) || !view_has_name(&v, program, program_len)) break;
      /* The lowest slot running `program` answers. Its records lie in its
       * memory: hold the slot while reading them, so that memory cannot be
       * freed under us should the program end now (our own slot needs none). */
      const int held = i != ctx->self;
      if (held && tpi_hold_slot(ctx, i) != TP_OK) break; /* ended and freed */
      int rc = TP_ENOTFOUND;
      const int same = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE) == v.generation;
      if (same) rc = table_find(&v, var, size_out, out);
      if (held) tpi_release_slot(ctx, i);
      if (same) return rc;
      /* the slot was reused between reading it and holding it: read it again */
    }
  }
  return TP_ENOTFOUND;
}
