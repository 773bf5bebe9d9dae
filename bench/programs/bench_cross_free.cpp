// Cross-program free rate: blocks allocated by one side and freed by the
// other, through a single-producer single-consumer ring of pointers.
//
//   bench_cross_free threads N        both sides as two threads of this process
//   bench_cross_free produce N        allocate a ring, print its address, then
//                                     allocate N blocks into it (another program
//                                     of the same space consumes them)
//   bench_cross_free consume ADDR N   free N blocks from the ring at ADDR
//
// The producer is pinned to the first CPU, the consumer to the second (pin.h).
// The consuming side prints "frees_per_s=R" (R measured from its first to its
// last free). Each block's first byte is checked before it is freed.
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "pin.h"

namespace {

constexpr uint64_t kCapacity = 4096;

struct Ring {
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the consumer
  alignas(64) std::atomic<int> consumer_attached{0};
  std::atomic<int> consumer_done{0};
  void* slots[kCapacity];
};

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

void produce(Ring& r, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    size_t size = 16 + (i * 37) % 497;
    auto* p = static_cast<unsigned char*>(malloc(size));
    if (!p) abort();
    p[0] = static_cast<unsigned char>(i);
    while (r.head.load(std::memory_order_relaxed) - r.tail.load(std::memory_order_acquire) == kCapacity)
      sched_yield();
    r.slots[i % kCapacity] = p;
    r.head.store(i + 1, std::memory_order_release);
  }
}

double consume(Ring& r, uint64_t n) {
  double start = 0;
  for (uint64_t i = 0; i < n; ++i) {
    while (r.head.load(std::memory_order_acquire) == i) sched_yield();
    if (i == 0) start = now_s();
    auto* p = static_cast<unsigned char*>(r.slots[i % kCapacity]);
    if (p[0] != static_cast<unsigned char>(i)) {
      fprintf(stderr, "bench_cross_free: block %llu corrupted\n", static_cast<unsigned long long>(i));
      exit(1);
    }
    free(p);
    r.tail.store(i + 1, std::memory_order_release);
  }
  return double(n) / (now_s() - start);
}

uint64_t count_arg(const char* s) { return strtoull(s, nullptr, 10); }

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "threads") == 0) {
    uint64_t n = count_arg(argv[2]);
    auto* ring = new Ring;
    double rate = 0;
    run_pinned_pair([&] { produce(*ring, n); }, [&] { rate = consume(*ring, n); });
    printf("frees_per_s=%.0f\n", rate);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "produce") == 0) {
    uint64_t n = count_arg(argv[2]);
    auto* ring = new Ring;
    printf("%p\n", static_cast<void*>(ring));
    fflush(stdout);
    pin_side(0);
    for (int i = 0; !ring->consumer_attached.load(); ++i) {
      if (i > 60000) return 2;  // a minute without a consumer
      usleep(1000);
    }
    produce(*ring, n);
    while (!ring->consumer_done.load()) usleep(1000);
    delete ring;
    return 0;
  }
  if (argc >= 4 && strcmp(argv[1], "consume") == 0) {
    auto* ring = reinterpret_cast<Ring*>(strtoull(argv[2], nullptr, 16));
    uint64_t n = count_arg(argv[3]);
    pin_side(1);
    ring->consumer_attached.store(1);
    double rate = consume(*ring, n);
    ring->consumer_done.store(1);
    printf("frees_per_s=%.0f\n", rate);
    return 0;
  }
  fprintf(stderr, "usage: %s threads N | produce N | consume ADDR N\n", argv[0]);
  return 2;
}
