/* brk_churn [ROUNDS]: grows and trims glibc's main arena ROUNDS times (default 20000).
 * The mmap threshold is raised to 1 GiB, so a 256 KiB block comes from the main arena,
 * which grows with brk; the trim threshold and top pad are small, so free() gives the
 * memory back with brk at once. Each round: malloc, write a round-specific byte to every
 * page, check them all (another program writing into this heap would show here), free.
 * Counts the rounds where sbrk(0) went up after malloc and back down after free; exits 0
 * only if no check failed and brk moved up and down at least once. In a space, the break
 * must also lie in the program's slot. */
#define _GNU_SOURCE 1
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "threadprocs/abi.h"

enum { kBlock = 256 * 1024 - 512, kPage = 4096 };

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  if (rounds <= 0) {
    fprintf(stderr, "usage: brk_churn [ROUNDS > 0]\n");
    return 2;
  }
  if (!mallopt(M_MMAP_THRESHOLD, 1 << 30) || !mallopt(M_TRIM_THRESHOLD, 64 * 1024) ||
      !mallopt(M_TOP_PAD, 0)) {
    fprintf(stderr, "brk_churn: mallopt failed\n");
    return 1;
  }
  const uintptr_t slot_base = getauxval(AT_TP_SLOT_BASE);
  const uintptr_t slot_size = getauxval(AT_TP_SLOT_SIZE);
  long grew = 0, trimmed = 0;
  for (long round = 0; round < rounds; ++round) {
    char *const before = sbrk(0);
    unsigned char *block = malloc(kBlock);
    if (block == NULL) {
      fprintf(stderr, "brk_churn: round %ld: malloc failed\n", round);
      return 1;
    }
    char *const grown = sbrk(0);
    const unsigned char mark = (unsigned char)(round * 7 + 1);
    for (size_t at = 0; at < kBlock; at += kPage)
      block[at] = mark;
    block[kBlock - 1] = mark;
    for (size_t at = 0; at < kBlock; at += kPage) {
      if (block[at] != mark) {
        fprintf(stderr, "brk_churn: round %ld: byte %zu of the block changed\n", round, at);
        return 1;
      }
    }
    if (block[kBlock - 1] != mark) {
      fprintf(stderr, "brk_churn: round %ld: last byte of the block changed\n", round);
      return 1;
    }
    if (slot_base != 0 && ((uintptr_t)grown - 1 < slot_base ||
                           (uintptr_t)grown - 1 - slot_base >= slot_size)) {
      fprintf(stderr, "brk_churn: round %ld: the break %p is outside the slot\n", round,
              (void *)grown);
      return 1;
    }
    free(block);
    char *const after = sbrk(0);
    grew += grown > before;
    trimmed += after < grown;
  }
  printf("brk_churn: %ld rounds, brk grew %ld times, trimmed %ld times\n", rounds, grew,
         trimmed);
  if (grew == 0 || trimmed == 0) {
    fprintf(stderr, "brk_churn: the break never %s\n", grew == 0 ? "grew" : "shrank");
    return 1;
  }
  return 0;
}
