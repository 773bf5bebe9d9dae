/* Threadprocs ABI: everything the host and the programs of a space agree on.
 *
 * This is the one header shared by the runtime, crt/libtp and the toolchain.
 * It is plain C (C99) so that crt0, libtp and foreign-language bindings can use
 * it; it must build with gcc and clang alike. Nothing here may change meaning
 * without bumping TP_ABI_VERSION.
 */
#ifndef THREADPROCS_ABI_H
#define THREADPROCS_ABI_H

#include <stdint.h>

#define TP_ABI_VERSION 1u

/* Auxiliary-vector entries the host adds to every program's initial stack.
 * glibc's getauxval() returns entries of any type, and ld.so ignores types it
 * does not know, so these need no crt0 to be read. The values are chosen far
 * from the kernel's AT_* range (which ends below 64). */
#define AT_TP_ABI_VERSION 0x54500000ul /* TP_ABI_VERSION of the host */
#define AT_TP_SLOT_INDEX  0x54500001ul /* index of the program's slot */
#define AT_TP_SLOT_BASE   0x54500002ul /* first address of the slot */
#define AT_TP_SLOT_SIZE   0x54500003ul /* size of every slot, in bytes */
#define AT_TP_ARENA_BASE  0x54500004ul /* first address of slot 0 */
#define AT_TP_SLOT_COUNT  0x54500005ul /* number of slots in the space */
#define AT_TP_CONTROL     0x54500006ul /* address of the space's control region */

/* ---------------------------------------------------------------------------
 * The note a slot-aware image carries in PT_NOTE: owner "TPRC", type below,
 * descriptor struct tp_note_desc (little-endian, 8-byte aligned, 80 bytes).
 * docs/image-format.md describes it byte by byte.
 */
#define TP_NOTE_NAME "TPRC"
#define TP_NOTE_TYPE 0x54500001u
#define TP_NOTE_DESC_SIZE 80u
#define TP_NOTE_ANY_SLOT (-1)
#define TP_NOTE_NAME_MAX 32u /* bytes of tp_note_desc.name, NUL included */

/* tp_note_desc.flags */
#define TP_NOTE_FLAG_PRIVATE_HEAP 0x1u /* run with its own libc heap, as tp-run --private-heap */
#define TP_NOTE_FLAGS_KNOWN       0x1u

struct tp_note_desc {
  uint32_t abi_version;   /* TP_ABI_VERSION the image was linked for */
  uint32_t flags;         /* TP_NOTE_FLAG_*; unknown bits are refused */
  uint64_t stack_size;    /* main-thread stack in bytes; 0: the launcher's RLIMIT_STACK */
  uint64_t min_slot_size; /* smallest slot it runs in, in bytes; 0: any */
  int32_t fixed_slot;     /* slot it was linked for (tp-link --slot); TP_NOTE_ANY_SLOT: none */
  uint32_t reserved;      /* 0 */
  int64_t exports_begin;  /* __tp_exports_begin minus the address of the descriptor */
  int64_t exports_end;    /* __tp_exports_end minus the address of the descriptor */
  char name[TP_NOTE_NAME_MAX]; /* program name, NUL-terminated; empty: the file's name */
};

/* One TP_EXPORT record. The records lie between __tp_exports_begin and
 * __tp_exports_end (the linker-script fragment collects input sections named
 * "tp_exports"). The pointers are relocated by the program's own ld.so (or its
 * static-PIE start-up), so other programs read them only once the slot says
 * TP_SLOT_IN_MAIN. */
struct tp_export_record {
  const char* name;  /* "var": other programs look up "program/var" */
  void* address;
  uint64_t size;     /* sizeof the exported object */
};

/* ---------------------------------------------------------------------------
 * The control region: one mapping the host makes when a space starts and
 * every program reaches through AT_TP_CONTROL (all programs share one address
 * space, so it is ordinary memory). Every field that more than one task
 * writes is accessed with __atomic builtins; futexes on it are private
 * futexes (one mm).
 *
 *   tp_control_header | tp_slot_info[slot_count] | tp_registry_entry[registry_capacity]
 *   | uint32_t holds[slot_count][slot_count]   (holder-major)
 */
#define TP_CONTROL_MAGIC 0x3130434c52545054ull /* "TPTRLC01" */

struct tp_control_header {
  uint64_t magic;              /* TP_CONTROL_MAGIC */
  uint32_t abi_version;        /* TP_ABI_VERSION */
  uint32_t slot_count;
  uint32_t registry_capacity;  /* entries */
  uint32_t reserved0;
  uint64_t slots_offset;       /* from the start of the region */
  uint64_t registry_offset;
  uint64_t holds_offset;
  uint64_t total_size;
  /* 0: free; else TP_OWNER_TAG(slot) of the program changing the registry.
   * When that program ends holding it, the host takes it over, closes the
   * entries it left half-written and frees it: a program that dies mid-update
   * never wedges the registry. */
  uint32_t registry_lock;
  /* Bumped and futex-woken whenever a name appears or goes, and whenever a
   * program reaches main(): tp_wait sleeps on it. */
  uint32_t registry_generation;
  /* Bumped and futex-woken by tp_release when a hold count reaches 0, for
   * whoever waits for slots to be let go (the host itself re-checks held
   * slots every 20 ms while any exist). */
  uint32_t release_generation;
  uint32_t reserved1;
};

#define TP_OWNER_TAG(slot) ((uint32_t)(slot) + 1u)

/* tp_slot_info.state, written by the host */
#define TP_SLOT_FREE     0u
#define TP_SLOT_RUNNING  1u /* a program runs in it */
#define TP_SLOT_EXITING  2u /* the program ended; the host is deciding (holds?) */
#define TP_SLOT_HELD     3u /* ended, memory kept while another program holds it */
#define TP_SLOT_KEPT     4u /* ended, memory kept by tp-run --keep until tp-space release */

/* tp_slot_info.flags */
#define TP_SLOT_IN_MAIN          0x1u /* crt0 ran the constructors and entered main() */
#define TP_SLOT_SLOT_AWARE       0x2u /* the image carries the note (host) */
#define TP_SLOT_AT_LINK_ADDRESS  0x4u /* loaded with a zero relocation delta (host) */

struct tp_slot_info {
  uint32_t state;        /* TP_SLOT_* (host); futex-woken on every change */
  uint32_t flags;        /* TP_SLOT_IN_MAIN set by the program, the rest by the host */
  uint32_t generation;   /* bumped each time a program takes the slot */
  int32_t pid;
  uint64_t load_bias;    /* added to the image's link-time addresses */
  uint64_t exports_begin; /* run-time addresses of the export records */
  uint64_t exports_end;
  char name[64];         /* program name: the note's, or the file's name */
  uint8_t reserved[24];
}; /* 128 bytes */

#define TP_REGISTRY_NAME_MAX 104u /* bytes of tp_registry_entry.name, NUL included */

struct tp_registry_entry {
  uint32_t seq;     /* odd while the entry is being written (seqlock) */
  uint32_t owner;   /* 0: free; TP_OWNER_TAG(slot) of the publisher */
  uint64_t address;
  uint64_t size;    /* bytes the publisher said the object has; 0: not said */
  char name[TP_REGISTRY_NAME_MAX];
}; /* 128 bytes */

#define TP_DEFAULT_REGISTRY_CAPACITY 1024u

/* The header of a control region for `slot_count` slots and a registry of
 * `registry_capacity` entries: magic, version, counts, and the offsets of the
 * three tables (each 64-byte aligned). total_size is the bytes they need; the
 * host rounds the mapping up to whole pages and records that size instead. */
static inline struct tp_control_header tp_control_layout(uint32_t slot_count, uint32_t registry_capacity) {
  struct tp_control_header h;
  const uint64_t n = slot_count;
  __builtin_memset(&h, 0, sizeof h);
  h.magic = TP_CONTROL_MAGIC;
  h.abi_version = TP_ABI_VERSION;
  h.slot_count = slot_count;
  h.registry_capacity = registry_capacity;
  h.slots_offset = (sizeof h + 63u) & ~63ull;
  h.registry_offset = (h.slots_offset + n * sizeof(struct tp_slot_info) + 63u) & ~63ull;
  h.holds_offset = (h.registry_offset + registry_capacity * sizeof(struct tp_registry_entry) + 63u) & ~63ull;
  h.total_size = h.holds_offset + n * n * sizeof(uint32_t);
  return h;
}

/* Defaults of a space when the user names none. */
#define TP_DEFAULT_ARENA_BASE 0x200000000000ull /* 32 TiB */
#define TP_DEFAULT_SLOT_SIZE  (64ull << 30)     /* 64 GiB */
#define TP_DEFAULT_SLOT_COUNT 64u

/* Checks a note descriptor read from an image (untrusted bytes). Returns NULL
 * when it is well-formed, else what is wrong with it. Shared by the runtime and
 * the tools, so they accept exactly the same notes. */
static inline const char* tp_note_desc_problem(const unsigned char* desc, uint64_t size) {
  /* No casts: this header is included by C and by C++ built with -Wold-style-cast. */
  struct tp_note_desc d;
  uint32_t i;
  uint64_t begin, end, len;
  if (size != TP_NOTE_DESC_SIZE) return "the descriptor is not 80 bytes";
  __builtin_memcpy(&d, desc, sizeof d);
  if (d.abi_version == 0 || d.abi_version > TP_ABI_VERSION)
    return "it was linked for a newer Threadprocs ABI than this one";
  if (d.flags & ~TP_NOTE_FLAGS_KNOWN) return "it sets flags this version does not know";
  if (d.fixed_slot < TP_NOTE_ANY_SLOT) return "its fixed slot is negative";
  if (d.reserved != 0) return "its reserved field is not 0";
  if (d.min_slot_size & 0xfffull) return "its minimum slot size is not a multiple of 4096";
  if (d.stack_size > (1ull << 40)) return "its stack size is larger than 1 TiB";
  __builtin_memcpy(&begin, &d.exports_begin, sizeof begin); /* unsigned: no signed overflow */
  __builtin_memcpy(&end, &d.exports_end, sizeof end);
  len = end - begin;
  if (len > (1ull << 32) || len % sizeof(struct tp_export_record) != 0)
    return "its export table bounds are inconsistent";
  for (i = 0; i < TP_NOTE_NAME_MAX; ++i)
    if (d.name[i] == 0) break;
  if (i == TP_NOTE_NAME_MAX) return "its program name is not NUL-terminated";
  for (uint32_t j = 0; j < i; ++j) {
    const unsigned char c = d.name[j] & 0xff;
    if (c <= ' ' || c == '/' || c == 0x7f) return "its program name has a space, a slash or a control character";
  }
  return 0;
}

#if defined(__cplusplus)
#define TP_ABI_ASSERT(c, m) static_assert(c, m)
#else
#define TP_ABI_ASSERT(c, m) _Static_assert(c, m)
#endif
TP_ABI_ASSERT(sizeof(struct tp_note_desc) == TP_NOTE_DESC_SIZE, "tp_note_desc layout");
TP_ABI_ASSERT(sizeof(struct tp_export_record) == 24, "tp_export_record layout");
TP_ABI_ASSERT(sizeof(struct tp_control_header) == 72, "tp_control_header layout");
TP_ABI_ASSERT(sizeof(struct tp_slot_info) == 128, "tp_slot_info layout");
TP_ABI_ASSERT(sizeof(struct tp_registry_entry) == 128, "tp_registry_entry layout");
#undef TP_ABI_ASSERT

#endif /* THREADPROCS_ABI_H */
