// string_get ADDR: reads the SharedText that string_put published at ADDR (as printed,
// "0x..."), prints its text and a newline, then tells the writer it may go.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "shared_text.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: string_get ADDR\n");
    return 2;
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long long address = std::strtoull(argv[1], &end, 16);
  if (*argv[1] == '\0' || *end != '\0' || errno != 0 || address == 0 ||
      address % alignof(SharedText) != 0) {
    std::fprintf(stderr, "string_get: not an object address: %s\n", argv[1]);
    return 2;
  }
  auto* shared = reinterpret_cast<SharedText*>(static_cast<std::uintptr_t>(address));

  std::printf("%s\n", shared->text.c_str());
  std::fflush(stdout);

  shared->done.store(1, std::memory_order_release);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&shared->done), FUTEX_WAKE, INT_MAX,
          nullptr, nullptr, 0);
  return 0;
}
