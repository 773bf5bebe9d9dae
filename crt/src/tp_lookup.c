/* Lookup by name (a registry name or "program/var") and waiting for a name.
 *
 * Waiting sleeps on header.registry_generation, which every publish,
 * unpublish and entry into main() bumps: read the generation, look, and sleep
 * only while the generation is still the one read before looking — so an
 * appearance between the look and the sleep is never missed. */
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "tp_internal.h"

void tpi_bump_registry_generation(const struct tp_ctx* ctx) {
  __atomic_add_fetch(&ctx->control->registry_generation, 1u, __ATOMIC_SEQ_CST);
  tpi_futex_wake(&ctx->control->registry_generation, INT_MAX);
}

/* "program/var": program as in a slot name (no space, < 64 bytes), var as
 * TP_EXPORT stringized it (printable, spaces allowed). */
static int split_export_name(const char* name, const char* slash, uint32_t* program_len) {
  const size_t len = (size_t)(slash - name);
  if (len == 0 || len >= sizeof(((struct tp_slot_info*)0)->name)) return 0;
  for (size_t i = 0; i < len; ++i)
    if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f) return 0;
  const char* var = slash + 1;
  if (*var == '\0') return 0;
  for (; *var; ++var)
    if ((unsigned char)*var < ' ' || (unsigned char)*var >= 0x7f || *var == '/') return 0;
  *program_len = (uint32_t)len;
  return 1;
}

/* 1 when name is NUL-terminated within TP_NAME_MAX bytes (reads no further). */
static int short_enough(const char* name) {
  for (size_t i = 0; i < TP_NAME_MAX; ++i)
    if (name[i] == '\0') return 1;
  return 0;
}

int tpi_lookup(const struct tp_ctx* ctx, const char* name, uint64_t* size_out, void** out) {
  if (!ctx) return TP_ENOSPACE;
  if (!name || !short_enough(name)) return TP_EINVAL;
  const char* slash = strchr(name, '/');
  if (!slash) return tpi_registry_find(ctx, name, size_out, out);
  uint32_t program_len;
  if (!split_export_name(name, slash, &program_len)) return TP_EINVAL;
  return tpi_exports_find(ctx, name, program_len, slash + 1, size_out, out);
}

int tpi_wait(const struct tp_ctx* ctx, const char* name, int64_t timeout_ns, uint64_t* size_out,
             void** out) {
  if (!ctx) return TP_ENOSPACE;
  int64_t deadline = -1; /* forever */
  if (timeout_ns >= 0) {
    const int64_t now = tpi_monotonic_ns();
    if (timeout_ns <= INT64_MAX - now) deadline = now + timeout_ns;
  }
  uint32_t* generation = &ctx->control->registry_generation;
  for (;;) {
    const uint32_t seen = __atomic_load_n(generation, __ATOMIC_ACQUIRE);
    const int rc = tpi_lookup(ctx, name, size_out, out);
    if (rc != TP_ENOTFOUND) return rc; /* found, or a malformed name */
    int64_t left = -1;
    if (deadline >= 0) {
      left = deadline - tpi_monotonic_ns();
      if (left <= 0) return TP_ETIMEDOUT;
    }
    tpi_futex_wait(generation, seen, left);
  }
}
