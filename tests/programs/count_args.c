/* count_args: prints argc and an FNV-1a 64 checksum over the bytes of every argv entry,
 * argv[0] included, each with its terminating NUL (so where one argument ends and the
 * next begins counts too). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
  uint64_t hash = 0xcbf29ce484222325ull;
  uint64_t bytes = 0;
  for (int i = 0; i < argc; ++i) {
    const unsigned char *p = (const unsigned char *)argv[i];
    do {
      hash = (hash ^ *p) * 0x100000001b3ull;
      ++bytes;
    } while (*p++ != '\0');
  }
  printf("argc=%d\nbytes=%" PRIu64 "\nchecksum=%016" PRIx64 "\n", argc, bytes, hash);
  return 0;
}
