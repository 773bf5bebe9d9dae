// heap_pair: two programs of one space delete each other's standard containers
// (tests/integration/shared_heap_test.cpp).
//
//   heap_pair a            allocates a long std::string, a std::vector<int> of 1M elements and
//                          a std::unordered_map<std::string, std::string> of 100,000 entries,
//                          prints the address of a small control block ("0x...\n"), then
//                          waits for b; checks and deletes the set b hands back; exits 0.
//   heap_pair b ADDR       reads a's set through the control block at ADDR, checks every
//                          element, deletes all three, allocates its own set, hands it back,
//                          waits until a has checked and deleted it; exits 0.
//
// The handshake is a 32-bit state word driven by atomics and raw futexes (never a default
// std::mutex: each program has its own glibc, which believes it is single-threaded). Every
// wait has a 60 s deadline. Any failure prints "heap_pair <role>: <reason>" on stderr and
// exits 1.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Map = std::unordered_map<std::string, std::string>;

constexpr std::size_t kStringLength = 5000;  // far beyond the small-string buffer
constexpr std::size_t kVectorLength = 1'000'000;
constexpr std::size_t kMapEntries = 100'000;
constexpr std::uint64_t kMagic = 0x6865617070616972;  // "heappair"

// The state word's values, in order.
enum : std::uint32_t {
  kASetReady = 1,   // a published its set
  kBSetReady = 2,   // b checked and deleted a's set, and published its own
  kBSetFreed = 3,   // a checked and deleted b's set
  kBGone = 4,       // b will not touch the control block again
  kFailed = 99,     // either side gave up; the other stops waiting
};

struct Set {
  std::string* text = nullptr;
  std::vector<int>* numbers = nullptr;
  Map* map = nullptr;
};

struct Control {
  std::uint64_t magic = kMagic;
  std::atomic<std::uint32_t> state{0};
  Set a, b;
};

const char* role = "?";

[[noreturn]] void fail(const std::string& reason, Control* control = nullptr) {
  std::fprintf(stderr, "heap_pair %s: %s\n", role, reason.c_str());
  if (control != nullptr) {
    control->state.store(kFailed, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&control->state), FUTEX_WAKE, INT_MAX,
            nullptr, nullptr, 0);
  }
  std::exit(1);
}

void publish(Control& control, std::uint32_t state) {
  control.state.store(state, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&control.state), FUTEX_WAKE, INT_MAX,
          nullptr, nullptr, 0);
}

// Waits (60 s at most) until the state word is `wanted`.
void await(Control& control, std::uint32_t wanted) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const std::uint32_t now = control.state.load(std::memory_order_acquire);
    if (now == wanted)
      return;
    if (now == kFailed)
      fail("the other program failed");
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      fail("timed out waiting for state " + std::to_string(wanted) + " (state is " +
           std::to_string(now) + ")");
    timespec relative{};
    relative.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
    relative.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&control.state), FUTEX_WAIT, now,
            &relative, nullptr, 0);
  }
}

// The contents are a function of the owner's tag ('A' or 'B'), so the other side can check
// every byte.
std::string text_of(char tag) {
  std::string text;
  text.reserve(kStringLength);
  for (std::size_t i = 0; i < kStringLength; ++i)
    text += static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(tag)) % 26);
  return text;
}
int number_of(char tag, std::size_t i) { return static_cast<int>(i * 3 + static_cast<unsigned>(tag)); }
std::string key_of(std::size_t i) { return "key number " + std::to_string(i) + " of the map"; }
std::string value_of(char tag, std::size_t i) {
  return std::string(1, tag) + ": the value of entry " + std::to_string(i) +
         ", long enough to live on the heap";
}

Set make_set(char tag) {
  Set set;
  set.text = new std::string(text_of(tag));
  set.numbers = new std::vector<int>;
  set.numbers->reserve(kVectorLength);
  for (std::size_t i = 0; i < kVectorLength; ++i)
    set.numbers->push_back(number_of(tag, i));
  set.map = new Map;
  for (std::size_t i = 0; i < kMapEntries; ++i)
    set.map->emplace(key_of(i), value_of(tag, i));
  return set;
}

// Checks every element of the other program's set; fails with the first difference.
void check_set(const Set& set, char tag, Control& control) {
  if (set.text == nullptr || set.numbers == nullptr || set.map == nullptr)
    fail("a pointer of the set is null", &control);
  if (*set.text != text_of(tag))
    fail("the string differs (size " + std::to_string(set.text->size()) + ")", &control);
  if (set.numbers->size() != kVectorLength)
    fail("the vector has " + std::to_string(set.numbers->size()) + " elements", &control);
  for (std::size_t i = 0; i < kVectorLength; ++i)
    if ((*set.numbers)[i] != number_of(tag, i))
      fail("vector element " + std::to_string(i) + " differs", &control);
  if (set.map->size() != kMapEntries)
    fail("the map has " + std::to_string(set.map->size()) + " entries", &control);
  for (std::size_t i = 0; i < kMapEntries; ++i) {
    const auto found = set.map->find(key_of(i));
    if (found == set.map->end())
      fail("map key " + std::to_string(i) + " is missing", &control);
    if (found->second != value_of(tag, i))
      fail("map value " + std::to_string(i) + " differs", &control);
  }
}

void delete_set(Set& set) {
  delete set.text;
  delete set.numbers;
  delete set.map;
  set = Set{};
}

int run_a() {
  role = "a";
  auto* control = new Control;
  control->a = make_set('A');
  publish(*control, kASetReady);
  std::printf("0x%" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(control));
  std::fflush(stdout);

  await(*control, kBSetReady);
  check_set(control->b, 'B', *control);
  delete_set(control->b);  // b's memory, freed by a
  publish(*control, kBSetFreed);
  await(*control, kBGone);
  delete control;
  std::printf("a: checked and deleted b's set\n");
  return 0;
}

int run_b(const char* address_text) {
  role = "b";
  char* end = nullptr;
  errno = 0;
  const unsigned long long address = std::strtoull(address_text, &end, 16);
  if (*address_text == '\0' || *end != '\0' || errno != 0 || address == 0 ||
      address % alignof(Control) != 0)
    fail(std::string("not a control block address: ") + address_text);
  auto* control = reinterpret_cast<Control*>(static_cast<std::uintptr_t>(address));
  if (control->magic != kMagic)
    fail("no control block at " + std::string(address_text));

  await(*control, kASetReady);
  check_set(control->a, 'A', *control);
  delete_set(control->a);  // a's memory, freed by b
  control->b = make_set('B');
  publish(*control, kBSetReady);
  await(*control, kBSetFreed);
  publish(*control, kBGone);  // from here on, a may exit and its slot may go
  std::printf("b: checked and deleted a's set\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "a") == 0)
    return run_a();
  if (argc == 3 && std::strcmp(argv[1], "b") == 0)
    return run_b(argv[2]);
  std::fprintf(stderr, "usage: heap_pair a | heap_pair b ADDR\n");
  return 2;
}
