/* The registry: tp_registry_entry[registry_capacity] in the control region.
 *
 * Writers (publish, unpublish) hold header.registry_lock; readers take no lock
 * and read each entry as a seqlock. The host clears the entries of a program
 * whose slot it frees without taking the lock (it only touches entries owned
 * by the ended program's tag, which nobody else writes), and clears the lock
 * word itself when that program held it — so a program that dies at any point
 * never wedges the registry.
 *
 * Every access to an entry's words is an __atomic one: readers race writers
 * by design, and the seq re-check discards what a race produced. */
#include <stddef.h>
#include <string.h>

#include "tp_internal.h"

#define NAME_WORDS (TP_REGISTRY_NAME_MAX / 8u)
_Static_assert(TP_REGISTRY_NAME_MAX % 8u == 0, "the name is read as whole words");
_Static_assert(offsetof(struct tp_registry_entry, name) % 8u == 0, "name is word-aligned");

/* A consistent copy of one used entry. */
struct entry_view {
  uint32_t owner;
  uint64_t address;
  uint64_t size;
  uint64_t name[NAME_WORDS];
};

int tpi_valid_registry_name(const char* name) {
  if (!name) return 0;
  size_t i = 0;
  for (; name[i] != '\0'; ++i) {
    if (i + 1 >= TP_REGISTRY_NAME_MAX) return 0;
    const unsigned char c = (unsigned char)name[i];
    if (c <= ' ' || c >= 0x7f || c == '/') return 0;
  }
  return i > 0;
}

static tpi_name_word* name_words(struct tp_registry_entry* e) { return (tpi_name_word*)(void*)e->name; }

/* Copies e into *v when it is used and was not being written. Returns 0 for a
 * free entry or one a writer holds (odd seq): both mean "no name here now". */
static int entry_read(struct tp_registry_entry* e, struct entry_view* v) {
  for (;;) {
    const uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
    if (s1 & 1u) return 0;
    v->owner = __atomic_load_n(&e->owner, __ATOMIC_RELAXED);
    if (v->owner == 0) return 0;
    v->address = __atomic_load_n(&e->address, __ATOMIC_RELAXED);
    v->size = __atomic_load_n(&e->size, __ATOMIC_RELAXED);
    tpi_load_name(v->name, e->name, NAME_WORDS);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1) return 1;
    /* changed under us: read it again */
  }
}

static int view_has_name(const struct entry_view* v, const char* name, size_t len) {
  return tpi_name_is(v->name, sizeof v->name, name, len);
}

/* The seqlock's write side. Opening makes seq odd; the odd value is derived
 * as seq | 1 so that an entry a dead writer left odd is healed, not inverted. */
static uint32_t entry_open(struct tp_registry_entry* e) {
  const uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED) | 1u;
  __atomic_store_n(&e->seq, s, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  return s;
}

/* Opens a free entry for writing, or returns 0 when it is not free. The CAS
 * (rather than a store) makes sure the host is not clearing it right now:
 * owner 0 read here may be the host's clear in progress, whose odd seq the
 * acquire fence makes visible to the CAS. */
static int entry_claim(struct tp_registry_entry* e, uint32_t* odd) {
  uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
  if (s & 1u) return 0;
  const uint32_t owner = __atomic_load_n(&e->owner, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (owner != 0) return 0;
  if (!__atomic_compare_exchange_n(&e->seq, &s, s + 1u, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return 0;
  __atomic_thread_fence(__ATOMIC_RELEASE);
  *odd = s + 1u;
  return 1;
}

static void entry_close(struct tp_registry_entry* e, uint32_t odd) {
  __atomic_store_n(&e->seq, odd + 1u, __ATOMIC_RELEASE);
}

static void entry_store_name(struct tp_registry_entry* e, const char* name, size_t len) {
  uint64_t words[NAME_WORDS] = {0};
  memcpy(words, name, len); /* len < TP_REGISTRY_NAME_MAX: NUL-padded */
  tpi_name_word* w = name_words(e);
  for (unsigned i = 0; i < NAME_WORDS; ++i) __atomic_store_n(&w[i], words[i], __ATOMIC_RELAXED);
}

void tpi_registry_lock(const struct tp_ctx* ctx) {
  uint32_t* word = &ctx->control->registry_lock;
  for (unsigned spins = 0;; ++spins) {
    uint32_t seen = 0;
    if (__atomic_compare_exchange_n(word, &seen, ctx->tag, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return;
    if (spins < 100) {
      __builtin_ia32_pause();
      continue;
    }
    /* The timeout bounds the wait if the holder dies and the host's clear
     * races our sleep. */
    tpi_futex_wait(word, seen, 10 * 1000 * 1000);
  }
}

void tpi_registry_unlock(const struct tp_ctx* ctx) {
  __atomic_store_n(&ctx->control->registry_lock, 0u, __ATOMIC_RELEASE);
  tpi_futex_wake(&ctx->control->registry_lock, 1);
}

int tpi_registry_find(const struct tp_ctx* ctx, const char* name, uint64_t* size_out, void** out) {
  if (!ctx) return TP_ENOSPACE;
  if (!tpi_valid_registry_name(name)) return TP_EINVAL;
  const size_t len = strlen(name);
  struct entry_view v;
  for (uint32_t i = 0; i < ctx->registry_capacity; ++i) {
    if (!entry_read(&ctx->registry[i], &v) || !view_has_name(&v, name, len)) continue;
    if (out) *out = (void*)(uintptr_t)v.address;
    if (size_out) *size_out = v.size;
    return TP_OK;
  }
  return TP_ENOTFOUND;
}

/* Under the lock: TP_EEXIST, or TP_OK with the entry written. */
static int publish_locked(const struct tp_ctx* ctx, const char* name, size_t len, const void* p,
                          uint64_t size) {
  struct entry_view v;
  uint32_t first_free = UINT32_MAX;
  for (uint32_t i = 0; i < ctx->registry_capacity; ++i) {
    struct tp_registry_entry* e = &ctx->registry[i];
    if (entry_read(e, &v)) {
      if (view_has_name(&v, name, len)) return TP_EEXIST;
    } else if (first_free == UINT32_MAX && __atomic_load_n(&e->owner, __ATOMIC_RELAXED) == 0) {
      first_free = i;
    }
  }
  if (first_free == UINT32_MAX) return TP_EFULL;
  for (uint32_t i = first_free; i < ctx->registry_capacity; ++i) {
    struct tp_registry_entry* e = &ctx->registry[i];
    uint32_t odd;
    if (!entry_claim(e, &odd)) continue;
    /* owner first: should this program die mid-write, the entry carries its
     * tag and the host clears it with the program's other entries. */
    __atomic_store_n(&e->owner, ctx->tag, __ATOMIC_RELAXED);
    __atomic_store_n(&e->address, (uint64_t)(uintptr_t)p, __ATOMIC_RELAXED);
    __atomic_store_n(&e->size, size, __ATOMIC_RELAXED);
    entry_store_name(e, name, len);
    entry_close(e, odd);
    return TP_OK;
  }
  return TP_EFULL;
}

int tpi_publish(const struct tp_ctx* ctx, const char* name, const void* p, uint64_t size) {
  if (!ctx) return TP_ENOSPACE;
  if (!tpi_valid_registry_name(name) || !p) return TP_EINVAL;
  const size_t len = strlen(name);
  tpi_registry_lock(ctx);
  const int rc = publish_locked(ctx, name, len, p, size);
  tpi_registry_unlock(ctx);
  if (rc == TP_OK) tpi_bump_registry_generation(ctx);
  return rc;
}

int tpi_unpublish(const struct tp_ctx* ctx, const char* name) {
  if (!ctx) return TP_ENOSPACE;
  if (!tpi_valid_registry_name(name)) return TP_EINVAL;
  const size_t len = strlen(name);
  int rc = TP_ENOTFOUND;
  struct entry_view v;
  tpi_registry_lock(ctx);
  for (uint32_t i = 0; i < ctx->registry_capacity; ++i) {
    struct tp_registry_entry* e = &ctx->registry[i];
    if (!entry_read(e, &v) || v.owner != ctx->tag || !view_has_name(&v, name, len)) continue;
    const uint32_t odd = entry_open(e);
    entry_store_name(e, "", 0);
    __atomic_store_n(&e->address, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&e->size, 0u, __ATOMIC_RELAXED);
    /* owner last: dying before this leaves the entry the program's, for the host to clear */
    __atomic_store_n(&e->owner, 0u, __ATOMIC_RELAXED);
    entry_close(e, odd);
    rc = TP_OK;
    break;
  }
  tpi_registry_unlock(ctx);
  if (rc == TP_OK) tpi_bump_registry_generation(ctx);
  return rc;
}
