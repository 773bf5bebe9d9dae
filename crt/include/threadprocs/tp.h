/* libtp: what a program running in a Threadprocs space uses to find and share
 * objects with the other programs of the space (docs/api.md).
 *
 * Plain C (C11), usable from C and C++. Every function may be called from any
 * thread, from programs linked by tp-link (with crt0) or linked with libtp.a
 * by hand (libtp then reads the host's AT_TP_* auxv entries with getauxval()).
 * Outside a space every function returns TP_ENOSPACE (tp_in_space() 0): a
 * program linked with libtp also runs as an ordinary process.
 *
 * Errors are returned as negative TP_E* values; tp_strerror() describes them.
 */
#ifndef THREADPROCS_TP_H
#define THREADPROCS_TP_H

#include <stdint.h>

#include "threadprocs/abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TP_API __attribute__((visibility("default")))

/* ---------------------------------------------------------------- errors */
#define TP_OK         0
#define TP_ENOSPACE   (-1)  /* the program does not run in a space */
#define TP_ENOTFOUND  (-2)  /* no such name (yet) */
#define TP_EEXIST     (-3)  /* the name is already published */
#define TP_ETIMEDOUT  (-4)  /* tp_wait: the name did not appear in time */
#define TP_EINVAL     (-5)  /* malformed name or argument */
#define TP_EFULL      (-6)  /* the space's registry has no free entry */
#define TP_EGONE      (-7)  /* tp_hold: the owner of the memory has ended, its slot is free */
#define TP_ENOTHELD   (-8)  /* tp_release: this program holds no hold on that slot */
#define TP_ESIZE      (-9)  /* typed lookup: the published size differs from the type's */
#define TP_ENOTARENA  (-10) /* the address lies outside the space's arena */
#define TP_EABI       (-11) /* the space's control region has a layout this libtp does not know */

/* A sentence describing a TP_* code (never NULL; static storage). */
TP_API const char* tp_strerror(int code);

/* Longest name tp_lookup and tp_wait accept, NUL included. Registry names
 * (tp_publish) are shorter: at most TP_REGISTRY_NAME_MAX - 1 bytes. */
#define TP_NAME_MAX 256u

/* ---------------------------------------------------------------- the space */
struct tp_self_info {
  uint32_t slot;        /* index of this program's slot */
  uint32_t slot_count;  /* slots in the space */
  uint64_t slot_base;   /* first address of this program's slot */
  uint64_t slot_size;   /* bytes in every slot */
  uint64_t arena_base;  /* first address of slot 0 */
  const char* name;     /* this program's name in the slot table (the host's copy) */
};

/* 1 when the program runs in a space libtp can use, else 0. */
TP_API int tp_in_space(void);
/* Fills *out. TP_ENOSPACE / TP_EABI / TP_EINVAL (out NULL). */
TP_API int tp_self(struct tp_self_info* out);
/* Index (>= 0) of the slot whose memory holds p, in O(1); TP_ENOTARENA when p
 * lies outside the arena, TP_ENOSPACE outside a space. */
TP_API int tp_owner(const void* p);

/* ---------------------------------------------------------------- the registry
 * A space-wide table of name -> address (+ size). Names: 1 to
 * TP_REGISTRY_NAME_MAX - 1 printable ASCII bytes, no space, no '/'. A name
 * belongs to the program that published it; the host removes a program's
 * names when its slot is freed. */
TP_API int tp_publish(const char* name, const void* p);
/* As tp_publish, and records sizeof the object (0: not said) for typed lookups. */
TP_API int tp_publish_sized(const char* name, const void* p, uint64_t size);
/* Removes a name this program published. TP_ENOTFOUND if it has none by that name. */
TP_API int tp_unpublish(const char* name);

/* name: a registry name, or "program/var" for an object the program named
 * "program" exports with TP_EXPORT (found once that program reached main()).
 * *out (may be NULL) receives the address. TP_ENOTFOUND if absent. */
TP_API int tp_lookup(const char* name, void** out);
/* As tp_lookup; *size_out (may be NULL) receives the size (0: not said). */
TP_API int tp_lookup_sized(const char* name, uint64_t* size_out, void** out);
/* As tp_lookup, waiting until the name appears: timeout_ns < 0 waits forever,
 * 0 looks once. TP_ETIMEDOUT when it did not appear in time. */
TP_API int tp_wait(const char* name, int64_t timeout_ns, void** out);
TP_API int tp_wait_sized(const char* name, int64_t timeout_ns, uint64_t* size_out, void** out);

/* ---------------------------------------------------------------- holds
 * A hold on another program's slot keeps its memory (and so every object in
 * it) mapped after that program ends, until the last hold is released. Holds
 * count: each tp_hold needs one tp_release. A program's holds end with it. */
TP_API int tp_hold(const void* p);
TP_API int tp_release(const void* p);

/* ---------------------------------------------------------------- exports
 * TP_EXPORT(var) at file (or namespace) scope makes a global object visible to
 * the other programs of the space as "program/var", with no call at run time:
 * the record lies in the image's "tp_exports" section, which the host finds
 * through the image's note (tp-link). `var` is stringized as written, so
 * TP_EXPORT(ns::counter) is looked up as "program/ns::counter". Write it
 * without spaces. The object must have static storage duration. */
#define TP_EXPORT_CAT2_(a, b) a##b
#define TP_EXPORT_CAT_(a, b) TP_EXPORT_CAT2_(a, b)
#if defined(__cplusplus) && __cplusplus >= 202002L
#define TP_EXPORT_CONSTINIT_ constinit /* a dynamic initializer would be a compile error */
#else
#define TP_EXPORT_CONSTINIT_
#endif
#define TP_EXPORT(var)                                                                 \
  __attribute__((used, section("tp_exports"), aligned(8)))                            \
  TP_EXPORT_CONSTINIT_ static struct tp_export_record TP_EXPORT_CAT_(tp_export_record_, \
                                                                     __COUNTER__) = {  \
      #var, (void*)&(var), sizeof(var)}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* THREADPROCS_TP_H */
