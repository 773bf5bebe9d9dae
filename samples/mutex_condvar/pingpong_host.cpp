// pingpong_host: allocates a PingPong, prints its address ("0x..."), then answers each of
// the peer's PingPong::kRounds turns. Frees the object once the peer has let go of it.
#include <cinttypes>
#include <cstdint>
#include <cstdio>

#include "pingpong.h"

int main() {
  auto* shared = new PingPong;
  std::printf("0x%" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(shared));
  std::fflush(stdout);

  std::unique_lock<std::mutex> lock(shared->m);
  for (int i = 0; i < PingPong::kRounds; ++i) {
    if (!wait_for(*shared, lock, [&] { return shared->turn == PingPong::kHost; })) {
      std::fprintf(stderr, "pingpong_host: no answer from a peer within 60 s (round %d)\n", i);
      return 1;
    }
    ++shared->rounds;
    shared->turn = PingPong::kPeer;
    shared->cv.notify_all();
  }
  // The peer touches the object until it sets joined = 2 (under the lock): only then free.
  if (!wait_for(*shared, lock, [&] { return shared->joined.load() == 2; })) {
    std::fprintf(stderr, "pingpong_host: the peer did not finish within 60 s\n");
    return 1;
  }
  const int rounds = shared->rounds;
  lock.unlock();
  delete shared;
  std::printf("pingpong_host: %d rounds done, %d turns in total\n", PingPong::kRounds, rounds);
  return 0;
}
