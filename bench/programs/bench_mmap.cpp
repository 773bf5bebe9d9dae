// bench_mmap: an mmap-heavy program. Times each memory-mapping call it makes
// and prints, on one line, the median ns of each kind of call and the total
// loop time:  "mmap=N munmap=N mremap=N touch=N loop=N" (0 when not made).
// bench/mmap_compare runs it natively and as a threadproc, where mmap, munmap
// and mremap are trapped by the memory supervisor (page faults are not).
//
// usage: bench_mmap MODE COUNT [LIVE]
//   small       COUNT x { mmap(64 KiB) ; touch its 16 pages ; munmap }
//   large       COUNT x { mmap(4 MiB) ; munmap }   (never touched)
//   remap       COUNT x { mmap(64 KiB) ; fill ; mremap to 1 MiB (MAYMOVE) ;
//                         check ; touch the new last page ; munmap(1 MiB) }
//   fragmented  first 2*LIVE x mmap(64 KiB) and munmap of every other one
//               (LIVE live mappings, default 5,000, with as many holes too
//               small), then COUNT x { mmap(128 KiB) ; munmap }
// Checks as it goes: fresh anonymous pages read zero, mremap keeps contents.
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr size_t kKiB = 1024, kMiB = 1024 * kKiB, kPage = 4096;
constexpr size_t kMaxCount = 200000;
constexpr size_t kMaxFragments = 60000;  // under vm.max_map_count with the holes

// Per-call samples, in .bss (mapped by the loader: no call of ours).
int64_t t_mmap[kMaxCount], t_munmap[kMaxCount], t_mremap[kMaxCount], t_touch[kMaxCount];
void* fragments[kMaxFragments];

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void fail(const char* what, size_t i) {
  fprintf(stderr, "bench_mmap: %s (iteration %zu)\n", what, i);
  exit(3);
}

unsigned char* timed_mmap(size_t len, size_t i) {
  int64_t t = now_ns();
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t_mmap[i] = now_ns() - t;
  if (p == MAP_FAILED) fail("mmap failed", i);
  return static_cast<unsigned char*>(p);
}

void timed_munmap(void* p, size_t len, size_t i) {
  int64_t t = now_ns();
  int r = munmap(p, len);
  t_munmap[i] = now_ns() - t;
  if (r != 0) fail("munmap failed", i);
}

// Writes one byte per page after checking the page is fresh (zero).
void touch(unsigned char* p, size_t len, size_t i) {
  int64_t t = now_ns();
  for (size_t off = 0; off < len; off += kPage) {
    if (p[off] != 0) fail("a fresh anonymous page is not zero", i);
    p[off] = 1;
  }
  t_touch[i] = now_ns() - t;
}

int64_t median(int64_t* v, size_t n) {
  if (n == 0) return 0;
  std::sort(v, v + n);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s small|large|remap|fragmented COUNT [LIVE]\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  size_t count = strtoull(argv[2], nullptr, 10);
  size_t fragments_n = 2 * (argc > 3 ? strtoull(argv[3], nullptr, 10) : 5000);
  if (count == 0 || count > kMaxCount || fragments_n == 0 || fragments_n > kMaxFragments) {
    fprintf(stderr, "bench_mmap: COUNT must be 1..%zu, LIVE 1..%zu\n", kMaxCount, kMaxFragments / 2);
    return 2;
  }
  size_t n_mmap = 0, n_munmap = 0, n_mremap = 0, n_touch = 0;
  int64_t start = now_ns();
  if (strcmp(mode, "small") == 0) {
    for (size_t i = 0; i < count; ++i) {
      unsigned char* p = timed_mmap(64 * kKiB, i);
      touch(p, 64 * kKiB, i);
      timed_munmap(p, 64 * kKiB, i);
    }
    n_mmap = n_munmap = n_touch = count;
  } else if (strcmp(mode, "large") == 0) {
    for (size_t i = 0; i < count; ++i) timed_munmap(timed_mmap(4 * kMiB, i), 4 * kMiB, i);
    n_mmap = n_munmap = count;
  } else if (strcmp(mode, "remap") == 0) {
    for (size_t i = 0; i < count; ++i) {
      unsigned char* p = timed_mmap(64 * kKiB, i);
      memset(p, 0x5a, 64 * kKiB);
      int64_t t = now_ns();
      void* q = mremap(p, 64 * kKiB, 1 * kMiB, MREMAP_MAYMOVE);
      t_mremap[i] = now_ns() - t;
      if (q == MAP_FAILED) fail("mremap failed", i);
      p = static_cast<unsigned char*>(q);
      for (size_t off = 0; off < 64 * kKiB; off += kPage)
        if (p[off] != 0x5a || p[off + kPage - 1] != 0x5a) fail("mremap lost the contents", i);
      touch(p + 1 * kMiB - kPage, kPage, i);
      timed_munmap(p, 1 * kMiB, i);
    }
    n_mmap = n_munmap = n_mremap = n_touch = count;
  } else if (strcmp(mode, "fragmented") == 0) {
    for (size_t f = 0; f < fragments_n; ++f) fragments[f] = timed_mmap(64 * kKiB, 0);
    for (size_t f = 0; f < fragments_n; f += 2) timed_munmap(fragments[f], 64 * kKiB, 0);
    start = now_ns();  // the loop only; the set-up shows in the driver's wall time
    for (size_t i = 0; i < count; ++i) timed_munmap(timed_mmap(128 * kKiB, i), 128 * kKiB, i);
    n_mmap = n_munmap = count;
    for (size_t f = 1; f < fragments_n; f += 2) munmap(fragments[f], 64 * kKiB);
  } else {
    fprintf(stderr, "bench_mmap: unknown mode '%s'\n", mode);
    return 2;
  }
  int64_t loop = now_ns() - start;
  printf("mmap=%lld munmap=%lld mremap=%lld touch=%lld loop=%lld\n",
         static_cast<long long>(median(t_mmap, n_mmap)), static_cast<long long>(median(t_munmap, n_munmap)),
         static_cast<long long>(median(t_mremap, n_mremap)), static_cast<long long>(median(t_touch, n_touch)),
         static_cast<long long>(loop));
  return 0;
}
