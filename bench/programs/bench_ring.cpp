// bench_ring: messages per second through a single-producer single-consumer
// ring, the same code in every variant (bench/ring_compare runs them side by
// side):
//
//   pointers  a fixed ring of 1024 pointers. The producer allocates each
//             message with new (a payload of BYTES, e.g. 64), fills it and pushes its
//             address; the consumer pops it, reads the whole payload (checks
//             it) and deletes it. Between two threads of one process, or
//             between two programs of one Threadprocs space (the consumer
//             frees the producer's memory).
//   copy      a ring of 1024 slots of BYTES each in POSIX shared memory
//             (shm_open) between two ordinary processes: the producer fills
//             the message, copies it into a slot; the consumer copies it out
//             and reads it: what two processes must do without a shared heap.
//
// Both sides poll (an empty or full ring makes them sched_yield), the
// producer pinned to the first CPU, the consumer to the second (pin.h). The
// consumer prints "msgs_per_s=R", measured from its first to its last message.
//
//   bench_ring threads N BYTES         both sides as two threads
//   bench_ring produce N BYTES         allocate a ring, print its address,
//                                      produce N messages into it
//   bench_ring consume ADDR N BYTES    consume N messages from the ring at ADDR
//   bench_ring shm-produce NAME N BYTES  create shared memory NAME, print "ready",
//                                      produce N messages into it (copying)
//   bench_ring shm-consume NAME N      consume N messages from it (copying)
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "pin.h"

namespace {

constexpr uint64_t kCapacity = 1024;  // a power of two
constexpr uint64_t kMaxWords = 512;   // payloads up to 4 KiB

uint64_t g_words = 8;  // payload size in 64-bit words (8: 64 bytes)

void fill(uint64_t* m, uint64_t seq) {
  for (uint64_t j = 0; j < g_words; ++j) m[j] = seq * 0x9E3779B97F4A7C15ull + j;
}

// Reads every word of the payload; fails loudly on a wrong message.
void check(const uint64_t* m, uint64_t seq) {
  uint64_t sum = 0;
  for (uint64_t j = 0; j < g_words; ++j) sum += m[j];
  if (m[0] != seq * 0x9E3779B97F4A7C15ull || sum != g_words * seq * 0x9E3779B97F4A7C15ull + g_words * (g_words - 1) / 2) {
    fprintf(stderr, "bench_ring: message %llu corrupted\n", static_cast<unsigned long long>(seq));
    exit(1);
  }
}

// The ring's indices and the start/stop handshake.
struct Control {
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the consumer
  alignas(64) std::atomic<int> consumer_attached{0};
  std::atomic<int> consumer_done{0};
};
struct PointerRing : Control {
  alignas(64) uint64_t* slots[kCapacity];
};
// Followed, in the shared mapping, by kCapacity slots of g_words words.
struct CopyRing : Control {
  uint64_t words;  // the payload size the producer chose
  alignas(64) uint64_t slots[];
};

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The producer keeps its own copy of the consumer's index and re-reads it
// only when the ring looks full (and the consumer likewise), as SPSC rings do.
void wait_room(Control& r, uint64_t i, uint64_t& tail) {
  while (i - tail == kCapacity) {
    tail = r.tail.load(std::memory_order_acquire);
    if (i - tail == kCapacity) sched_yield();
  }
}

void wait_message(Control& r, uint64_t i, uint64_t& head) {
  while (head == i) {
    head = r.head.load(std::memory_order_acquire);
    if (head == i) sched_yield();
  }
}

void produce(PointerRing& r, uint64_t n) {
  uint64_t tail = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto* m = new uint64_t[g_words];
    fill(m, i);
    wait_room(r, i, tail);
    r.slots[i % kCapacity] = m;
    r.head.store(i + 1, std::memory_order_release);
  }
}

double consume(PointerRing& r, uint64_t n) {
  double start = 0;
  uint64_t head = 0;
  for (uint64_t i = 0; i < n; ++i) {
    wait_message(r, i, head);
    if (i == 0) start = now_s();
    uint64_t* m = r.slots[i % kCapacity];
    r.tail.store(i + 1, std::memory_order_release);
    check(m, i);
    delete[] m;
  }
  return double(n) / (now_s() - start);
}

void produce(CopyRing& r, uint64_t n) {
  uint64_t tail = 0;
  uint64_t m[kMaxWords];
  for (uint64_t i = 0; i < n; ++i) {
    fill(m, i);
    wait_room(r, i, tail);
    memcpy(&r.slots[(i % kCapacity) * g_words], m, g_words * 8);
    r.head.store(i + 1, std::memory_order_release);
  }
}

double consume(CopyRing& r, uint64_t n) {
  double start = 0;
  uint64_t head = 0;
  uint64_t m[kMaxWords];
  for (uint64_t i = 0; i < n; ++i) {
    wait_message(r, i, head);
    if (i == 0) start = now_s();
    memcpy(m, &r.slots[(i % kCapacity) * g_words], g_words * 8);
    r.tail.store(i + 1, std::memory_order_release);
    check(m, i);
  }
  return double(n) / (now_s() - start);
}

void wait_for_consumer(Control& r) {
  for (int i = 0; !r.consumer_attached.load(); ++i) {
    if (i > 60000) {
      fprintf(stderr, "bench_ring: no consumer within a minute\n");
      exit(2);
    }
    usleep(1000);
  }
}

void wait_until_done(Control& r) {
  while (!r.consumer_done.load()) usleep(1000);
}

CopyRing* map_shared(const char* name, bool create) {
  size_t size = sizeof(CopyRing) + kCapacity * kMaxWords * 8;
  int fd = shm_open(name, create ? O_RDWR | O_CREAT | O_EXCL : O_RDWR, 0600);
  if (fd < 0 || (create && ftruncate(fd, off_t(size)) != 0)) {
    perror("bench_ring: shm_open");
    exit(1);
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    perror("bench_ring: mmap");
    exit(1);
  }
  if (!create) return static_cast<CopyRing*>(p);
  auto* r = new (p) CopyRing;
  r->words = g_words;
  return r;
}

uint64_t count_arg(const char* s) { return strtoull(s, nullptr, 10); }

void set_payload(const char* bytes) {
  uint64_t b = strtoull(bytes, nullptr, 10);
  if (b < 8 || b % 8 != 0 || b / 8 > kMaxWords) {
    fprintf(stderr, "bench_ring: payload must be a multiple of 8 bytes, 8..%llu\n",
            static_cast<unsigned long long>(kMaxWords * 8));
    exit(2);
  }
  g_words = b / 8;
}

}  // namespace

int main(int argc, char** argv) {
  alarm(600);  // never outlive a stuck benchmark
  if (argc == 4 && strcmp(argv[1], "threads") == 0) {
    uint64_t n = count_arg(argv[2]);
    set_payload(argv[3]);
    auto* ring = new PointerRing;
    double rate = 0;
    run_pinned_pair([&] { produce(*ring, n); }, [&] { rate = consume(*ring, n); });
    delete ring;
    printf("msgs_per_s=%.0f\n", rate);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "produce") == 0) {
    uint64_t n = count_arg(argv[2]);
    set_payload(argv[3]);
    auto* ring = new PointerRing;
    printf("%p\n", static_cast<void*>(ring));
    fflush(stdout);
    pin_side(0);
    wait_for_consumer(*ring);
    produce(*ring, n);
    wait_until_done(*ring);
    delete ring;
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "consume") == 0) {
    auto* ring = reinterpret_cast<PointerRing*>(strtoull(argv[2], nullptr, 16));
    uint64_t n = count_arg(argv[3]);
    set_payload(argv[4]);
    pin_side(1);
    ring->consumer_attached.store(1);
    double rate = consume(*ring, n);
    ring->consumer_done.store(1);
    printf("msgs_per_s=%.0f\n", rate);
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "shm-produce") == 0) {
    uint64_t n = count_arg(argv[3]);
    set_payload(argv[4]);
    CopyRing* ring = map_shared(argv[2], true);
    printf("ready\n");
    fflush(stdout);
    pin_side(0);
    wait_for_consumer(*ring);
    produce(*ring, n);
    wait_until_done(*ring);
    shm_unlink(argv[2]);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "shm-consume") == 0) {
    CopyRing* ring = map_shared(argv[2], false);
    uint64_t n = count_arg(argv[3]);
    g_words = ring->words;
    pin_side(1);
    ring->consumer_attached.store(1);
    double rate = consume(*ring, n);
    ring->consumer_done.store(1);
    printf("msgs_per_s=%.0f\n", rate);
    return 0;
  }
  fprintf(stderr,
          "usage: %s threads N BYTES | produce N BYTES | consume ADDR N BYTES | shm-produce NAME N BYTES | "
          "shm-consume NAME N\n",
          argv[0]);
  return 2;
}
