// heap_leave: an object that outlives the program that allocated it
// (tests/integration/shared_heap_test.cpp).
//
//   heap_leave put        allocates a Parcel (a long std::string and a std::vector<int>),
//                         prints its address ("0x...\n") and exits 0 at once.
//   heap_leave take ADDR  reads the Parcel at ADDR, checks it, deletes it (memory of a program
//                         that has ended), prints "took N bytes and M numbers\n" and exits 0.
//                         If the owner's slot was reset, the first read faults (SIGSEGV).
// Failures print "heap_leave: <reason>" on stderr and exit 1.
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t kMagic = 0x6c65617665686561;  // "leavehea"
constexpr std::size_t kTextLength = 3000;
constexpr std::size_t kNumbers = 100'000;

struct Parcel {
  std::uint64_t magic = kMagic;
  std::string text;
  std::vector<int> numbers;
};

std::string expected_text() {
  std::string text;
  for (std::size_t i = 0; i < kTextLength; ++i)
    text += static_cast<char>('A' + i % 26);
  return text;
}

int put() {
  auto* parcel = new Parcel;
  parcel->text = expected_text();
  for (std::size_t i = 0; i < kNumbers; ++i)
    parcel->numbers.push_back(static_cast<int>(i * 5));
  std::printf("0x%" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(parcel));
  return 0;  // the parcel is left behind on purpose
}

int take(const char* address_text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long address = std::strtoull(address_text, &end, 16);
  if (*address_text == '\0' || *end != '\0' || errno != 0 || address == 0 ||
      address % alignof(Parcel) != 0) {
    std::fprintf(stderr, "heap_leave: not a parcel address: %s\n", address_text);
    return 1;
  }
  auto* parcel = reinterpret_cast<Parcel*>(static_cast<std::uintptr_t>(address));
  if (parcel->magic != kMagic) {  // the first read: faults if the owner's slot is gone
    std::fprintf(stderr, "heap_leave: no parcel at %s\n", address_text);
    return 1;
  }
  if (parcel->text != expected_text()) {
    std::fprintf(stderr, "heap_leave: the parcel's text differs\n");
    return 1;
  }
  if (parcel->numbers.size() != kNumbers) {
    std::fprintf(stderr, "heap_leave: the parcel has %zu numbers\n", parcel->numbers.size());
    return 1;
  }
  for (std::size_t i = 0; i < kNumbers; ++i)
    if (parcel->numbers[i] != static_cast<int>(i * 5)) {
      std::fprintf(stderr, "heap_leave: number %zu differs\n", i);
      return 1;
    }
  const std::size_t bytes = parcel->text.size(), numbers = parcel->numbers.size();
  delete parcel;  // memory of a program that has ended
  std::printf("took %zu bytes and %zu numbers\n", bytes, numbers);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "put") == 0)
    return put();
  if (argc == 3 && std::strcmp(argv[1], "take") == 0)
    return take(argv[2]);
  std::fprintf(stderr, "usage: heap_leave put | heap_leave take ADDR\n");
  return 2;
}
