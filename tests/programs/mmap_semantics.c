/* mmap_semantics: checks what mmap, munmap and mremap answer, one line per check:
 * "ok: NAME", "FAIL: NAME: why", or "skip: NAME (not in a space)" for a check that only
 * means something inside a slot. In a space every address returned must also lie in the
 * slot [AT_TP_SLOT_BASE, +AT_TP_SLOT_SIZE). Ends with "mmap_semantics: N passed, M failed,
 * S skipped"; exits 0 only if nothing failed.
 *
 * Addresses outside the slot: the first of a few candidates that is unmapped in the host
 * too (checked with mincore before and after: a sanitizer-built host has its shadow
 * memory at 0x100000000, for one) and the vDSO (mapped by the kernel for the whole mm, so the host's:
 * a MAP_FIXED or munmap that were not refused would clobber it). */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "threadprocs/abi.h"

#define PAGE 4096ul

static uintptr_t slot_base, slot_size;
static int passed, failed, skipped;
static char why[256];

static int in_slot(const void *p, size_t len) {
  const uintptr_t a = (uintptr_t)p;
  return slot_base == 0 || (a >= slot_base && len <= slot_size && a - slot_base <= slot_size - len);
}

/* Records the outcome of one check; `ok` false means `why` says what went wrong. */
static void report(const char *name, int ok) {
  if (ok) {
    printf("ok: %s\n", name);
    ++passed;
  } else {
    printf("FAIL: %s: %s\n", name, why);
    ++failed;
  }
  why[0] = '\0';
}

static int fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(why, sizeof why, format, args);
  va_end(args);
  return 0;
}

static void skip(const char *name) {
  printf("skip: %s (not in a space)\n", name);
  ++skipped;
}

static int is_mapped(const void *p) {
  unsigned char vec;
  return mincore((void *)((uintptr_t)p & ~(PAGE - 1)), PAGE, &vec) == 0;
}

static void *map(void *hint, size_t len, int flags) {
  return mmap(hint, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

/* A fresh mapping in the slot, or NULL (with `why` set). */
static char *fresh(size_t len) {
  char *p = map(NULL, len, 0);
  if (p == MAP_FAILED) {
    fail("mmap of %zu bytes: %s", len, strerror(errno));
    return NULL;
  }
  if (!in_slot(p, len)) {
    fail("mmap returned %p, outside the slot", (void *)p);
    return NULL;
  }
  return p;
}

static int expect_failure(void *result, int expected_errno, const char *call) {
  if (result != MAP_FAILED)
    return fail("%s succeeded (%p)", call, result);
  if (errno != expected_errno)
    return fail("%s failed with %s, expected %s", call, strerrorname_np(errno),
                strerrorname_np(expected_errno));
  return 1;
}

static int check_noreplace_on_mapped(void) {
  char *p = fresh(PAGE);
  if (p == NULL)
    return 0;
  p[0] = 'p';
  errno = 0;
  if (!expect_failure(map(p, PAGE, MAP_FIXED_NOREPLACE), EEXIST, "MAP_FIXED_NOREPLACE"))
    return 0;
  if (p[0] != 'p')
    return fail("the mapped page changed");
  return munmap(p, PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_noreplace_on_free(void) {
  char *r = fresh(3 * PAGE);
  if (r == NULL)
    return 0;
  r[0] = 'a';
  r[2 * PAGE] = 'c';
  if (munmap(r + PAGE, PAGE) != 0)
    return fail("munmap of the middle page: %s", strerror(errno));
  char *q = map(r + PAGE, PAGE, MAP_FIXED_NOREPLACE);
  if (q == MAP_FAILED)
    return fail("MAP_FIXED_NOREPLACE at %p: %s", (void *)(r + PAGE), strerror(errno));
  if (q != r + PAGE)
    return fail("MAP_FIXED_NOREPLACE asked for %p, got %p", (void *)(r + PAGE), (void *)q);
  q[0] = 'b';
  if (r[0] != 'a' || r[2 * PAGE] != 'c' || q[PAGE - 1] != 0)
    return fail("the neighbouring pages changed");
  return munmap(r, 3 * PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_fixed_replaces_own(void) {
  char *p = fresh(2 * PAGE);
  if (p == NULL)
    return 0;
  memset(p, 'x', 2 * PAGE);
  char *q = map(p + PAGE, PAGE, MAP_FIXED);
  if (q != p + PAGE)
    return fail("MAP_FIXED at %p returned %p (%s)", (void *)(p + PAGE), (void *)q,
                q == MAP_FAILED ? strerror(errno) : "wrong address");
  if (q[0] != 0 || p[0] != 'x')
    return fail("MAP_FIXED did not replace exactly its page");
  return munmap(p, 2 * PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_hint_honoured(void) {
  char *h = fresh(3 * PAGE);
  if (h == NULL)
    return 0;
  if (munmap(h, 3 * PAGE) != 0)
    return fail("munmap: %s", strerror(errno));
  char *x = map(h + PAGE, PAGE, 0);
  if (x == MAP_FAILED)
    return fail("mmap with hint %p: %s", (void *)(h + PAGE), strerror(errno));
  if (x != h + PAGE)
    return fail("hint %p (free) not honoured: got %p", (void *)(h + PAGE), (void *)x);
  return munmap(x, PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_mremap_grow_in_place(void) {
  char *a = fresh(4 * PAGE);
  if (a == NULL)
    return 0;
  a[0] = 'g';
  if (munmap(a + PAGE, 3 * PAGE) != 0)
    return fail("munmap of the tail: %s", strerror(errno));
  char *b = mremap(a, PAGE, 4 * PAGE, 0); /* no MREMAP_MAYMOVE: in place or nothing */
  if (b == MAP_FAILED)
    return fail("mremap 1 -> 4 pages in place: %s", strerror(errno));
  if (b != a)
    return fail("mremap without MREMAP_MAYMOVE moved %p to %p", (void *)a, (void *)b);
  if (b[0] != 'g' || b[3 * PAGE] != 0)
    return fail("contents wrong after growing");
  memset(b, 'G', 4 * PAGE);
  return munmap(b, 4 * PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_mremap_move(void) {
  char *m = fresh(2 * PAGE);
  if (m == NULL)
    return 0;
  m[0] = 'M';
  m[PAGE] = 'N';
  /* The page after m is m's own second page: growing the first page cannot happen in
   * place. */
  errno = 0;
  if (!expect_failure(mremap(m, PAGE, 3 * PAGE, 0), ENOMEM, "mremap in place"))
    return 0;
  char *moved = mremap(m, PAGE, 3 * PAGE, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED)
    return fail("mremap with MREMAP_MAYMOVE: %s", strerror(errno));
  if (moved == m)
    return fail("mremap did not move");
  if (!in_slot(moved, 3 * PAGE))
    return fail("mremap moved to %p, outside the slot", (void *)moved);
  if (moved[0] != 'M' || moved[2 * PAGE] != 0 || m[PAGE] != 'N')
    return fail("contents wrong after moving");
  moved[2 * PAGE] = 'm';
  /* The old first page is free again: a MAP_FIXED_NOREPLACE there succeeds. */
  char *again = map(m, PAGE, MAP_FIXED_NOREPLACE);
  if (again != m)
    return fail("the page mremap moved away is not free: %s",
                again == MAP_FAILED ? strerror(errno) : "wrong address");
  if (again[0] != 0)
    return fail("the page mremap moved away kept its contents");
  /* Shrink: the tail becomes free. */
  char *shrunk = mremap(moved, 3 * PAGE, PAGE, 0);
  if (shrunk != moved)
    return fail("mremap shrink returned %p", (void *)shrunk);
  char *tail = map(moved + PAGE, 2 * PAGE, MAP_FIXED_NOREPLACE);
  if (tail != moved + PAGE)
    return fail("the tail a shrink gave back is not free: %s",
                tail == MAP_FAILED ? strerror(errno) : "wrong address");
  if (tail[PAGE] != 0 || moved[0] != 'M')
    return fail("contents wrong after shrinking");
  if (munmap(m, 2 * PAGE) != 0 || munmap(moved, 3 * PAGE) != 0)
    return fail("munmap: %s", strerror(errno));
  return 1;
}

static int check_munmap_unmapped_in_slot(void) {
  char *p = fresh(2 * PAGE);
  if (p == NULL)
    return 0;
  if (munmap(p, 2 * PAGE) != 0)
    return fail("munmap: %s", strerror(errno));
  /* Unmapping nothing is not an error (as natively). */
  return munmap(p, 2 * PAGE) == 0 || fail("second munmap: %s", strerror(errno));
}

/* An unmapped address outside the slot and outside the arena, chosen in main(). */
static void *kOutside = (void *)0x100000000ul;

static void choose_outside_address(void) {
  static const uintptr_t candidates[] = {0x100000000ul, 0x300000000000ul, 0x500000000000ul, 0x6f0000000000ul};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; ++i) {
    uintptr_t a = candidates[i];
    int in_slot = slot_size && a >= slot_base && a < slot_base + slot_size;
    if (!in_slot && !is_mapped((void *)a)) {
      kOutside = (void *)a;
      return;
    }
  }
}

static int check_fixed_outside(void) {
  if (is_mapped(kOutside))
    return fail("%p is mapped already: cannot use it for this check", kOutside);
  errno = 0;
  if (!expect_failure(map(kOutside, PAGE, MAP_FIXED), ENOMEM, "MAP_FIXED outside"))
    return 0;
  if (is_mapped(kOutside))
    return fail("something is mapped at %p after the refusal", kOutside);
  return 1;
}

static int check_fixed_over_vdso(void) {
  const char *vdso = (const char *)getauxval(AT_SYSINFO_EHDR);
  if (vdso == NULL)
    return fail("no vDSO");
  errno = 0;
  if (!expect_failure(map((void *)vdso, PAGE, MAP_FIXED), ENOMEM, "MAP_FIXED over the vDSO"))
    return 0;
  struct timespec now;
  if (memcmp(vdso, "\177ELF", 4) != 0 || clock_gettime(CLOCK_MONOTONIC, &now) != 0)
    return fail("the vDSO changed");
  return 1;
}

static int check_fixed_straddling_slot_start(void) {
  errno = 0;
  void *below = (void *)(slot_base - PAGE);
  return expect_failure(mmap(below, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                             -1, 0),
                        ENOMEM, "MAP_FIXED over the slot's first byte");
}

static int check_noreplace_outside(void) {
  errno = 0;
  if (!expect_failure(map(kOutside, PAGE, MAP_FIXED_NOREPLACE), EEXIST,
                      "MAP_FIXED_NOREPLACE outside"))
    return 0;
  return !is_mapped(kOutside) || fail("something is mapped at %p", kOutside);
}

static int check_munmap_outside(void) {
  const char *vdso = (const char *)getauxval(AT_SYSINFO_EHDR);
  if (munmap(kOutside, PAGE) == 0)
    return fail("munmap at %p succeeded", kOutside);
  if (errno != EINVAL)
    return fail("munmap at %p: %s, expected EINVAL", kOutside, strerrorname_np(errno));
  if (munmap((void *)vdso, PAGE) == 0)
    return fail("munmap of the vDSO succeeded");
  if (errno != EINVAL)
    return fail("munmap of the vDSO: %s, expected EINVAL", strerrorname_np(errno));
  return memcmp(vdso, "\177ELF", 4) == 0 || fail("the vDSO changed");
}

static int check_mremap_from_outside(void) {
  if (is_mapped(kOutside))
    return fail("%p is mapped already: cannot use it for this check", kOutside);
  errno = 0;
  return expect_failure(mremap(kOutside, PAGE, 2 * PAGE, MREMAP_MAYMOVE), EFAULT,
                        "mremap from outside");
}

static int check_mremap_to_outside(void) {
  char *p = fresh(PAGE);
  if (p == NULL)
    return 0;
  p[0] = 'o';
  errno = 0;
  if (mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, kOutside) != MAP_FAILED)
    return fail("mremap to %p succeeded", kOutside);
  if (is_mapped(kOutside))
    return fail("something is mapped at %p", kOutside);
  if (p[0] != 'o')
    return fail("the source changed");
  return munmap(p, PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

static int check_hint_outside_lands_in_slot(void) {
  void *p = map(kOutside, PAGE, 0);
  if (p == MAP_FAILED)
    return fail("mmap with hint %p: %s", kOutside, strerror(errno));
  if (!in_slot(p, PAGE))
    return fail("mmap with hint %p returned %p, outside the slot", kOutside, p);
  return munmap(p, PAGE) == 0 || fail("munmap: %s", strerror(errno));
}

int main(void) {
  slot_base = getauxval(AT_TP_SLOT_BASE);
  slot_size = getauxval(AT_TP_SLOT_SIZE);
  const int in_space = slot_base != 0 && slot_size != 0;
  choose_outside_address();

  report("MAP_FIXED_NOREPLACE on a mapped page fails with EEXIST", check_noreplace_on_mapped());
  report("MAP_FIXED_NOREPLACE at a free address maps exactly there", check_noreplace_on_free());
  report("MAP_FIXED over a page of the program's own replaces it", check_fixed_replaces_own());
  report("a free hint is honoured", check_hint_honoured());
  report("mremap grows in place", check_mremap_grow_in_place());
  report("mremap moves, frees the old range, shrinks", check_mremap_move());
  report("munmap of an unmapped range succeeds", check_munmap_unmapped_in_slot());
  report("mremap of an unmapped address outside fails with EFAULT", check_mremap_from_outside());

  const struct {
    const char *name;
    int (*check)(void);
  } outside[] = {
      {"MAP_FIXED outside the slot fails with ENOMEM", check_fixed_outside},
      {"MAP_FIXED over the vDSO fails with ENOMEM", check_fixed_over_vdso},
      {"MAP_FIXED straddling the slot's start fails with ENOMEM", check_fixed_straddling_slot_start},
      {"MAP_FIXED_NOREPLACE outside the slot fails with EEXIST", check_noreplace_outside},
      {"munmap outside the slot fails with EINVAL", check_munmap_outside},
      {"mremap to a fixed address outside the slot fails", check_mremap_to_outside},
      {"a hint outside the slot lands in the slot", check_hint_outside_lands_in_slot},
  };
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; ++i) {
    if (in_space)
      report(outside[i].name, outside[i].check());
    else
      skip(outside[i].name);
  }
  printf("mmap_semantics: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
