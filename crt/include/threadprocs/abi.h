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

/* The note a slot-aware image carries in PT_NOTE: owner "TPRC", type below. */
#define TP_NOTE_NAME "TPRC"
#define TP_NOTE_TYPE 0x54500001u

/* Defaults of a space when the user names none. */
#define TP_DEFAULT_ARENA_BASE 0x200000000000ull /* 32 TiB */
#define TP_DEFAULT_SLOT_SIZE  (64ull << 30)     /* 64 GiB */
#define TP_DEFAULT_SLOT_COUNT 64u

#endif /* THREADPROCS_ABI_H */
