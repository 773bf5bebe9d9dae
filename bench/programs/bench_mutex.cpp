// bench_mutex: one std::mutex contended by two sides, each taking it N times
// to increment a shared counter (bench/mutex_compare runs it side by side):
// two threads of one process, or two programs of one Threadprocs space with
// the mutex in the memory of the first one.
//
// MODE says how the mutex is made correct between the two sides:
//   private  a default std::mutex (process-private). Correct between threads.
//   pshared  the std::mutex's native pthread mutex re-initialised with
//            PTHREAD_PROCESS_SHARED (what samples/mutex_condvar does): glibc
//            then always takes the atomic path and uses shared futexes.
//   mt       a default std::mutex, but each side has started (and joined) a
//            thread of its own first. Between two programs of a space a
//            default mutex is only correct this way: glibc >= 2.35 takes and
//            releases a process-private mutex with plain stores while it
//            believes its process single-threaded, and every program of a
//            space has its own glibc (docs/limitations.md). Once a thread was
//            created, glibc uses atomics and (private) futexes for good, and a
//            private futex is keyed by the address space, which the programs
//            share.
// The first side is pinned to the first CPU, the second to the second
// (pin.h). The side that owns the mutex prints "ns_per_lock=T" (wall time from the
// common start to both sides done, per lock/unlock pair taken by either side)
// after checking the counter (exactly 2N: mutual exclusion held).
//
//   bench_mutex threads MODE N          two threads of this process
//   bench_mutex host MODE N             allocate the mutex, print its address,
//                                       contend with a peer program
//   bench_mutex peer MODE ADDR N        contend on the mutex at ADDR
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "pin.h"

namespace {

struct Shared {
  std::mutex m;
  uint64_t counter = 0;  // guarded by m
  alignas(64) std::atomic<int> attached{0};
  std::atomic<int> go{0};
  std::atomic<int> done{0};
};

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void usage(const char* argv0) {
  fprintf(stderr, "usage: %s threads MODE N | host MODE N | peer MODE ADDR N  (MODE: private, pshared, mt)\n", argv0);
  exit(2);
}

Shared* make_shared(const std::string& mode) {
  auto* s = new Shared;
  if (mode == "pshared") {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(s->m.native_handle(), &a);
    pthread_mutexattr_destroy(&a);
  }
  return s;
}

// Leaves glibc's single-thread fast path for good.
void become_multithreaded() { std::thread([] {}).join(); }

void contend(Shared& s, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    s.m.lock();
    ++s.counter;
    s.m.unlock();
  }
}

void wait_flag(const std::atomic<int>& flag, int value) {
  for (uint64_t i = 0; flag.load(std::memory_order_acquire) != value; ++i)
    if (i > 1000) usleep(100);
}

void report(Shared& s, uint64_t n, int64_t start) {
  int64_t elapsed = now_ns() - start;
  if (s.counter != 2 * n) {
    fprintf(stderr, "bench_mutex: counter %llu, expected %llu: mutual exclusion broken\n",
            static_cast<unsigned long long>(s.counter), static_cast<unsigned long long>(2 * n));
    exit(1);
  }
  printf("ns_per_lock=%.2f\n", double(elapsed) / double(2 * n));
}

}  // namespace

int main(int argc, char** argv) {
  alarm(600);  // never outlive a stuck benchmark
  if (argc < 4) usage(argv[0]);
  std::string what = argv[1], mode = argv[2];
  if (mode != "private" && mode != "pshared" && mode != "mt") usage(argv[0]);
  if (what == "threads" && argc == 4) {
    uint64_t n = strtoull(argv[3], nullptr, 10);
    Shared* s = make_shared(mode);
    int64_t start = 0;
    run_pinned_pair(
        [&] {
          wait_flag(s->attached, 1);
          start = now_ns();
          s->go.store(1, std::memory_order_release);
          contend(*s, n);
          wait_flag(s->done, 1);
        },
        [&] {
          s->attached.store(1);
          wait_flag(s->go, 1);
          contend(*s, n);
          s->done.store(1, std::memory_order_release);
        });
    report(*s, n, start);
    delete s;
    return 0;
  }
  if (what == "host" && argc == 4) {
    uint64_t n = strtoull(argv[3], nullptr, 10);
    if (mode == "mt") become_multithreaded();
    Shared* s = make_shared(mode);
    printf("%p\n", static_cast<void*>(s));
    fflush(stdout);
    pin_side(0);
    wait_flag(s->attached, 1);
    int64_t start = now_ns();
    s->go.store(1, std::memory_order_release);
    contend(*s, n);
    wait_flag(s->done, 1);
    report(*s, n, start);
    delete s;
    return 0;
  }
  if (what == "peer" && argc == 5) {
    auto* s = reinterpret_cast<Shared*>(strtoull(argv[3], nullptr, 16));
    uint64_t n = strtoull(argv[4], nullptr, 10);
    if (mode == "mt") become_multithreaded();
    pin_side(1);
    s->attached.store(1);
    wait_flag(s->go, 1);
    contend(*s, n);
    s->done.store(1, std::memory_order_release);
    return 0;
  }
  usage(argv[0]);
}
