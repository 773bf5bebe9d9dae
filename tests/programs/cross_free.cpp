// cross_free: two programs of one space free each other's blocks, concurrently
// (tests/integration/shared_heap_test.cpp).
//
//   cross_free a PAUSE_PATH [COUNT]   allocates the control block (two lock-free
//                                     single-producer/single-consumer rings, one each way),
//                                     prints its address ("0x...\n") and waits for b.
//   cross_free b ADDR [COUNT]         joins through the control block at ADDR.
//
// Then each side, in one loop, allocates COUNT (default 1,000,000) blocks of 16..1024 bytes,
// fills them with a pattern and pushes them to the other side, while it pops the other
// side's blocks, checks every byte and frees them: the memory of each program is freed by
// the other, concurrently with its own allocations.
//
// a pauses twice so that a test can measure it while its slot is alive: when it has sent
// half of its blocks it prints "half\n" and waits until PAUSE_PATH.half exists; when both
// sides are done (all of a's blocks were freed by b) it prints "end\n" and waits until
// PAUSE_PATH.end exists. Each side then waits for the other before it exits, so that no
// pointer into a slot outlives the slot. Every wait has a deadline (120 s without progress).
// Failures print "cross_free <role>: <reason>" on stderr and exit 1.
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

namespace {

constexpr std::uint64_t kMagic = 0x63726f7373667265;  // "crossfre"
constexpr std::size_t kRingSize = 4096;               // a power of two
constexpr std::size_t kMinBlock = 16, kMaxBlock = 1024;

// One producer, one consumer. The producer owns `tail`, the consumer `head`.
struct Ring {
  alignas(64) std::atomic<std::uint64_t> head{0};
  alignas(64) std::atomic<std::uint64_t> tail{0};
  alignas(64) std::atomic<std::uintptr_t> slots[kRingSize];

  bool push(std::uintptr_t value) {
    const std::uint64_t t = tail.load(std::memory_order_relaxed);
    if (t - head.load(std::memory_order_acquire) == kRingSize)
      return false;
    slots[t % kRingSize].store(value, std::memory_order_relaxed);
    tail.store(t + 1, std::memory_order_release);
    return true;
  }
  bool full() const {
    return tail.load(std::memory_order_relaxed) - head.load(std::memory_order_acquire) ==
           kRingSize;
  }
  bool pop(std::uintptr_t* value) {
    const std::uint64_t h = head.load(std::memory_order_relaxed);
    if (h == tail.load(std::memory_order_acquire))
      return false;
    *value = slots[h % kRingSize].load(std::memory_order_relaxed);
    head.store(h + 1, std::memory_order_release);
    return true;
  }
};

struct Control {
  std::uint64_t magic = kMagic;
  std::uint64_t count = 0;
  std::atomic<std::uint32_t> b_attached{0};
  std::atomic<std::uint32_t> a_finished{0};  // a's loop is over (it freed all of b's blocks)
  std::atomic<std::uint32_t> b_finished{0};  // b's loop is over (it freed all of a's blocks)
  std::atomic<std::uint32_t> b_gone{0};      // b will not touch the control block again
  std::atomic<std::uint32_t> failed{0};
  Ring a_to_b;
  Ring b_to_a;
};

const char* role = "?";
Control* shared = nullptr;

[[noreturn]] void fail(const std::string& reason) {
  std::fprintf(stderr, "cross_free %s: %s\n", role, reason.c_str());
  if (shared != nullptr)
    shared->failed.store(1, std::memory_order_release);
  std::exit(1);
}

using Clock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(120);

// Waits until `done()` holds; fails if the other side failed or 120 s pass.
template <typename Done>
void await(const char* what, Done done) {
  const auto deadline = Clock::now() + kPatience;
  while (!done()) {
    if (shared->failed.load(std::memory_order_acquire) != 0)
      fail(std::string("the other program failed while waiting for ") + what);
    if (Clock::now() > deadline)
      fail(std::string("timed out waiting for ") + what);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::size_t block_size(char tag, std::uint64_t seq) {
  return kMinBlock + (seq * 2654435761u + static_cast<unsigned char>(tag)) %
                         (kMaxBlock - kMinBlock + 1);
}
unsigned char fill_byte(char tag, std::uint64_t seq, std::size_t i) {
  return static_cast<unsigned char>(seq * 31 + i + static_cast<unsigned char>(tag));
}

void* make_block(char tag, std::uint64_t seq) {
  const std::size_t size = block_size(tag, seq);
  auto* block = static_cast<unsigned char*>(std::malloc(size));
  if (block == nullptr)
    fail("malloc(" + std::to_string(size) + ") failed");
  std::memcpy(block, &seq, sizeof seq);
  for (std::size_t i = sizeof seq; i < size; ++i)
    block[i] = fill_byte(tag, seq, i);
  return block;
}

void check_block(const void* pointer, char tag, std::uint64_t seq) {
  const auto* block = static_cast<const unsigned char*>(pointer);
  std::uint64_t got;
  std::memcpy(&got, block, sizeof got);
  if (got != seq)
    fail("block " + std::to_string(seq) + " carries sequence number " + std::to_string(got));
  const std::size_t size = block_size(tag, seq);
  for (std::size_t i = sizeof seq; i < size; ++i)
    if (block[i] != fill_byte(tag, seq, i))
      fail("block " + std::to_string(seq) + " differs at byte " + std::to_string(i));
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// The exchange loop. `pause_at_half` (a only) runs when half of the blocks were sent.
template <typename PauseAtHalf>
void exchange(char own_tag, char other_tag, Ring& out, Ring& in, std::uint64_t count,
              PauseAtHalf pause_at_half) {
  std::uint64_t sent = 0, received = 0;
  bool paused = false;
  auto last_progress = Clock::now();
  unsigned idle = 0;
  while (sent < count || received < count) {
    bool progress = false;
    for (int batch = 0; batch < 64 && sent < count; ++batch) {
      if (sent == count / 2 && !paused) {
        paused = true;
        pause_at_half();
        last_progress = Clock::now();
      }
      if (out.full())
        break;
      if (!out.push(reinterpret_cast<std::uintptr_t>(make_block(own_tag, sent))))
        fail("the ring was full after all");  // only we push: it cannot fill up meanwhile
      ++sent;
      progress = true;
    }
    std::uintptr_t value;
    for (int batch = 0; batch < 256 && in.pop(&value); ++batch) {
      void* block = reinterpret_cast<void*>(value);
      check_block(block, other_tag, received);
      std::free(block);  // the other program's block
      ++received;
      progress = true;
    }
    if (progress) {
      last_progress = Clock::now();
      idle = 0;
      continue;
    }
    if (shared->failed.load(std::memory_order_acquire) != 0)
      fail("the other program failed");
    if (Clock::now() - last_progress > kPatience)
      fail("no progress for 120 s (sent " + std::to_string(sent) + ", received " +
           std::to_string(received) + ")");
    if (++idle < 64)
      sched_yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

std::uint64_t parse_count(int argc, char** argv, int index) {
  if (argc <= index)
    return 1'000'000;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(argv[index], &end, 10);
  if (*argv[index] == '\0' || *end != '\0' || value < 2)
    fail(std::string("not a block count: ") + argv[index]);
  return value;
}

void wait_for_file(const std::string& path) {
  const auto deadline = Clock::now() + kPatience;
  while (!exists(path)) {
    if (Clock::now() > deadline)
      fail("timed out waiting for " + path);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int run_a(int argc, char** argv) {
  role = "a";
  const std::string pause_path = argv[2];
  const std::uint64_t count = parse_count(argc, argv, 3);
  shared = new Control;
  shared->count = count;
  std::printf("0x%" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(shared));
  std::fflush(stdout);
  await("b to attach", [] { return shared->b_attached.load(std::memory_order_acquire) != 0; });

  exchange('A', 'B', shared->a_to_b, shared->b_to_a, count, [&] {
    std::printf("half\n");
    std::fflush(stdout);
    wait_for_file(pause_path + ".half");
  });
  await("b to finish", [] { return shared->b_finished.load(std::memory_order_acquire) != 0; });
  std::printf("end\n");
  std::fflush(stdout);
  wait_for_file(pause_path + ".end");

  shared->a_finished.store(1, std::memory_order_release);
  await("b to leave", [] { return shared->b_gone.load(std::memory_order_acquire) != 0; });
  delete shared;
  shared = nullptr;
  std::printf("a: freed %" PRIu64 " blocks of b\n", count);
  return 0;
}

int run_b(int argc, char** argv) {
  role = "b";
  char* end = nullptr;
  errno = 0;
  const unsigned long long address = std::strtoull(argv[2], &end, 16);
  if (*argv[2] == '\0' || *end != '\0' || errno != 0 || address == 0 ||
      address % alignof(Control) != 0)
    fail(std::string("not a control block address: ") + argv[2]);
  shared = reinterpret_cast<Control*>(static_cast<std::uintptr_t>(address));
  if (shared->magic != kMagic) {
    shared = nullptr;
    fail("no control block at " + std::string(argv[2]));
  }
  const std::uint64_t count = parse_count(argc, argv, 3);
  if (count != shared->count)
    fail("a sends " + std::to_string(shared->count) + " blocks, b was told " +
         std::to_string(count));
  shared->b_attached.store(1, std::memory_order_release);

  exchange('B', 'A', shared->b_to_a, shared->a_to_b, count, [] {});
  shared->b_finished.store(1, std::memory_order_release);
  // a still frees blocks of ours until its loop is over: stay until then.
  await("a to finish", [] { return shared->a_finished.load(std::memory_order_acquire) != 0; });
  shared->b_gone.store(1, std::memory_order_release);
  shared = nullptr;  // a may exit and its slot go from here on
  std::printf("b: freed %" PRIu64 " blocks of a\n", count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "a") == 0)
    return run_a(argc, argv);
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "b") == 0)
    return run_b(argc, argv);
  std::fprintf(stderr, "usage: cross_free a PAUSE_PATH [COUNT] | cross_free b ADDR [COUNT]\n");
  return 2;
}
