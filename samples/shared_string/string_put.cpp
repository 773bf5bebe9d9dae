// string_put TEXT...: puts the words of TEXT, joined by spaces, into a std::string on its
// own heap, prints the object's address ("0x...") and waits (60 s at most) until
// string_get has read it. Exits 0 once read, 1 on timeout.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "shared_text.h"

namespace {

// Sleeps while *word == expected, for at most `timeout`; wakes early on FUTEX_WAKE.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::milliseconds timeout) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec relative{};
  relative.tv_sec = static_cast<time_t>(seconds.count());
  relative.tv_nsec = static_cast<long>((timeout - seconds).count() * 1'000'000);
  // Not FUTEX_PRIVATE_FLAG: the waker is another program (it shares our mm, so a private
  // futex would work as well, but a shared one states the intent).
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
          nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: string_put TEXT...\n");
    return 2;
  }
  auto* shared = new SharedText;
  for (int i = 1; i < argc; ++i) {
    if (i > 1)
      shared->text += ' ';
    shared->text += argv[i];
  }
  std::printf("0x%" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(shared));
  std::fflush(stdout);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (shared->done.load(std::memory_order_acquire) == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::fprintf(stderr, "string_put: nobody read the text within 60 s\n");
      return 1;
    }
    futex_wait(shared->done, 0, left);
  }
  // Our own heap, our own delete: the reader only read.
  delete shared;
  return 0;
}
