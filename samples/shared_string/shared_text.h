// The object string_put publishes and string_get reads: both programs compile this one
// definition, and in a space a pointer means the same thing in each of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

struct SharedText {
  // 0 while the writer waits, 1 once a reader has printed the text. A raw futex word:
  // std::atomic::wait/notify keep waiter counts in each program's own libstdc++, so a
  // notify from another program could skip the wake-up. The futex itself is fine:
  // both programs share one mm.
  std::atomic<std::uint32_t> done{0};
  std::string text;
};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word is 32 bits");
