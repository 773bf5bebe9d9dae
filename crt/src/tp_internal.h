/* libtp internals: everything takes an explicit context (struct tp_ctx), so
 * the unit tests run the real logic against a control region they build in
 * ordinary memory; the public API (tp_api.c) passes the process-wide one.
 *
 * A NULL context means "not in a space": every function then returns
 * TP_ENOSPACE. */
#ifndef THREADPROCS_TP_INTERNAL_H
#define THREADPROCS_TP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "threadprocs/abi.h"
#include "threadprocs/tp.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(hidden)

/* The AT_TP_* values of the auxv, as crt0 or getauxval() found them. */
struct tp_boot {
  uint64_t abi_version;
  uint64_t slot_index;
  uint64_t slot_base;
  uint64_t slot_size;
  uint64_t arena_base;
  uint64_t slot_count;
  uint64_t control;
  uint32_t present; /* TP_BOOT_HAS_* bits of the entries found */
  uint32_t recorded; /* 1: crt0 walked the auxv (whatever it found) */
};
#define TP_BOOT_HAS_ABI_VERSION 0x01u
#define TP_BOOT_HAS_SLOT_INDEX  0x02u
#define TP_BOOT_HAS_SLOT_BASE   0x04u
#define TP_BOOT_HAS_SLOT_SIZE   0x08u
#define TP_BOOT_HAS_ARENA_BASE  0x10u
#define TP_BOOT_HAS_SLOT_COUNT  0x20u
#define TP_BOOT_HAS_CONTROL     0x40u
#define TP_BOOT_HAS_ALL         0x7fu

/* A usable view of one space, as seen from one slot. */
struct tp_ctx {
  struct tp_control_header* control;
  struct tp_slot_info* slots;          /* [slot_count] */
  struct tp_registry_entry* registry;  /* [registry_capacity] */
  uint32_t* holds;                     /* [slot_count][slot_count], [holder][owner] */
  uint32_t registry_capacity;
  uint32_t slot_count;
  uint32_t self;                       /* own slot index */
  uint32_t tag;                        /* TP_OWNER_TAG(self) */
  uint64_t arena_base;
  uint64_t slot_size;
  uint64_t slot_base;                  /* own slot */
};

/* tp_ctx.c: builds *ctx from boot values and checks them against the control
 * region. TP_OK, TP_ENOSPACE (no AT_TP_* entries) or TP_EABI. */
int tpi_ctx_init(struct tp_ctx* ctx, const struct tp_boot* boot);
int tpi_self(const struct tp_ctx* ctx, struct tp_self_info* out);
int tpi_owner(const struct tp_ctx* ctx, const void* p);

/* tp_registry.c: the seqlocked name table. */
int tpi_publish(const struct tp_ctx* ctx, const char* name, const void* p, uint64_t size);
int tpi_unpublish(const struct tp_ctx* ctx, const char* name);
int tpi_registry_find(const struct tp_ctx* ctx, const char* name, uint64_t* size_out, void** out);
void tpi_registry_lock(const struct tp_ctx* ctx);
void tpi_registry_unlock(const struct tp_ctx* ctx);
/* 1 when name is a valid registry name. */
int tpi_valid_registry_name(const char* name);

/* tp_exports.c: "program/var" through the slot table's export tables. */
int tpi_exports_find(const struct tp_ctx* ctx, const char* program, uint32_t program_len,
                     const char* var, uint64_t* size_out, void** out);

/* tp_lookup.c: lookup by either kind of name, and waiting for one. */
int tpi_lookup(const struct tp_ctx* ctx, const char* name, uint64_t* size_out, void** out);
int tpi_wait(const struct tp_ctx* ctx, const char* name, int64_t timeout_ns, uint64_t* size_out,
             void** out);
/* Bumps header.registry_generation and wakes every tp_wait. */
void tpi_bump_registry_generation(const struct tp_ctx* ctx);

/* tp_holds.c */
int tpi_hold(const struct tp_ctx* ctx, const void* p);
int tpi_release(const struct tp_ctx* ctx, const void* p);
/* Hold / release by slot index (o < slot_count). */
int tpi_hold_slot(const struct tp_ctx* ctx, uint32_t o);
int tpi_release_slot(const struct tp_ctx* ctx, uint32_t o);

/* tp_main.c: crt0's __wrap_main calls this before main(): sets TP_SLOT_IN_MAIN
 * in the own slot, bumps the registry generation. */
void tpi_enter_main(const struct tp_ctx* ctx);

/* tp_futex.c */
/* Sleeps while *word == expected, at most timeout_ns (< 0: no limit).
 * Returns after a wake, a timeout, a signal or a changed value alike. */
void tpi_futex_wait(uint32_t* word, uint32_t expected, int64_t timeout_ns);
void tpi_futex_wake(uint32_t* word, int waiters);
int64_t tpi_monotonic_ns(void);

/* tp_process.c: the one process-wide state. crt0 fills `boot` before the
 * program's relocation (so it is plain data, no pointers); `ctx` is built
 * from it (or from getauxval()) on first use. */
struct tp_process {
  struct tp_boot boot;
  pthread_once_t once;
  int status; /* tpi_ctx_init's result */
  /* 1 in a child made by fork(): it has its own mm, a private copy of the
   * space's memory, so it is no longer in the space (see tp_process.c). */
  int forked;
  struct tp_ctx ctx;
};
extern struct tp_process tpi_process;

/* The process-wide context, or NULL outside a usable space. */
const struct tp_ctx* tpi_process_ctx(void);
/* TP_OK, TP_ENOSPACE or TP_EABI. */
int tpi_process_status(void);
/* Tests only: makes *ctx the process-wide context (NULL: not in a space). */
void tpi_process_install(const struct tp_ctx* ctx);

/* tp_crt0.c: walks the initial stack (sp -> argc) and records the AT_TP_*
 * entries in tpi_process.boot. Runs before relocation: see tp_crt0.c. */
void tpi_crt0_record(const uint64_t* sp);

/* Names in shared memory (slot names, registry names) are read as whole
 * 8-byte words with relaxed atomic loads: a seqlock reader's copy, checked
 * afterwards against the generation or the sequence. */
typedef uint64_t __attribute__((may_alias)) tpi_name_word;

static inline void tpi_load_name(uint64_t* dst, char* shared, unsigned words) {
  tpi_name_word* w = (tpi_name_word*)(void*)shared;
  for (unsigned i = 0; i < words; ++i) dst[i] = __atomic_load_n(&w[i], __ATOMIC_RELAXED);
}

/* 1 when the copied name (`size` bytes) is exactly name[0, len). */
static inline int tpi_name_is(const uint64_t* copy, size_t size, const char* name, size_t len) {
  const unsigned char* b = (const unsigned char*)copy;
  return len < size && memcmp(b, name, len) == 0 && b[len] == '\0';
}

#pragma GCC visibility pop

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* THREADPROCS_TP_INTERNAL_H */
