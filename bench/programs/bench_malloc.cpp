// bench_malloc: times small malloc/free pairs with the program's own allocator
// (glibc's malloc, whose main arena grows with brk) and prints one number: the
// median, over K repeats, of the nanoseconds per malloc+free pair.
// bench/malloc_compare runs it natively and as a threadproc.
//
// usage: bench_malloc pairs|bulk N K
//   pairs  N pairs over a ring of 256 live blocks: free the oldest, malloc a
//          new one (sizes 16..512). The heap stays small (a few brk calls).
//   bulk   N blocks allocated and kept, then all freed (sizes 16..512): the
//          main arena grows with brk to ~N*280 bytes and trims back, each
//          repeat (hundreds of brk calls per repeat).
// Every block's first byte is written at malloc and checked before free.
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr size_t kMaxLive = size_t(1) << 20;
constexpr size_t kRing = 256;
constexpr size_t kSizes = 4096;
constexpr int kMaxRepeats = 1000;

unsigned char* live[kMaxLive];  // .bss: mapped by the loader, not by malloc
uint16_t sizes[kSizes];
double samples[kMaxRepeats];

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void corrupted(size_t i) {
  fprintf(stderr, "bench_malloc: block %zu lost its first byte\n", i);
  exit(3);
}

unsigned char* allocate(size_t i, unsigned char tag) {
  auto* p = static_cast<unsigned char*>(malloc(sizes[i % kSizes]));
  if (!p) {
    fprintf(stderr, "bench_malloc: malloc(%u) failed\n", unsigned(sizes[i % kSizes]));
    exit(3);
  }
  p[0] = tag;
  return p;
}

// One repeat; returns ns per malloc+free pair.
double run_pairs(size_t n) {
  for (size_t j = 0; j < kRing; ++j) live[j] = allocate(j, static_cast<unsigned char>(j));
  int64_t start = now_ns();
  for (size_t i = 0; i < n; ++i) {
    size_t j = i % kRing;
    if (live[j][0] != static_cast<unsigned char>(j)) corrupted(j);
    free(live[j]);
    live[j] = allocate(i, static_cast<unsigned char>(j));
  }
  int64_t elapsed = now_ns() - start;
  for (size_t j = 0; j < kRing; ++j) free(live[j]);
  return double(elapsed) / double(n);
}

double run_bulk(size_t n) {
  int64_t start = now_ns();
  for (size_t i = 0; i < n; ++i) live[i] = allocate(i, static_cast<unsigned char>(i));
  for (size_t i = 0; i < n; ++i) {
    if (live[i][0] != static_cast<unsigned char>(i)) corrupted(i);
    free(live[i]);
  }
  return double(now_ns() - start) / double(n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (strcmp(argv[1], "pairs") != 0 && strcmp(argv[1], "bulk") != 0)) {
    fprintf(stderr, "usage: %s pairs|bulk N K\n", argv[0]);
    return 2;
  }
  const bool bulk = strcmp(argv[1], "bulk") == 0;
  size_t n = strtoull(argv[2], nullptr, 10);
  int k = atoi(argv[3]);
  if (n == 0 || (bulk && n > kMaxLive) || k < 1 || k > kMaxRepeats) {
    fprintf(stderr, "bench_malloc: need 1 <= N (<= %zu for bulk) and 1 <= K <= %d\n", kMaxLive, kMaxRepeats);
    return 2;
  }
  uint32_t x = 2463534242u;  // xorshift32: the same sizes in every run
  for (auto& s : sizes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s = uint16_t(16 + x % 497);
  }
  auto once = [&] { return bulk ? run_bulk(n) : run_pairs(n); };
  once();  // warm-up: first heap growth, page faults
  for (int r = 0; r < k; ++r) samples[r] = once();
  std::sort(samples, samples + k);
  double med = k % 2 ? samples[k / 2] : (samples[k / 2 - 1] + samples[k / 2]) / 2;
  printf("%.3f\n", med);
  return 0;
}
