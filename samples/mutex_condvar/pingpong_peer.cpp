// pingpong_peer ADDR: joins the PingPong that pingpong_host printed and takes
// PingPong::kRounds turns, alternating with the host through its condition variable.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "pingpong.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pingpong_peer ADDR\n");
    return 2;
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long long address = std::strtoull(argv[1], &end, 16);
  if (*argv[1] == '\0' || *end != '\0' || errno != 0 || address == 0 ||
      address % alignof(PingPong) != 0) {
    std::fprintf(stderr, "pingpong_peer: not an object address: %s\n", argv[1]);
    return 2;
  }
  auto* shared = reinterpret_cast<PingPong*>(static_cast<std::uintptr_t>(address));

  std::unique_lock<std::mutex> lock(shared->m);
  if (shared->joined.load() != 0) {
    std::fprintf(stderr, "pingpong_peer: the host already has a peer\n");
    return 1;
  }
  shared->joined.store(1);
  int mine = 0;
  for (int i = 0; i < PingPong::kRounds; ++i) {
    if (!wait_for(*shared, lock, [&] { return shared->turn == PingPong::kPeer; })) {
      std::fprintf(stderr, "pingpong_peer: no answer from the host within 60 s (round %d)\n", i);
      return 1;
    }
    ++shared->rounds;
    ++mine;
    shared->turn = PingPong::kHost;
    shared->cv.notify_all();
  }
  // Wait for the host's last answer, then let go. After joined = 2 the host may free the
  // object as soon as it gets the mutex: we notify while still holding it, and unlocking
  // a mutex that is about to be destroyed is allowed (POSIX, glibc).
  if (!wait_for(*shared, lock, [&] { return shared->turn == PingPong::kPeer; })) {
    std::fprintf(stderr, "pingpong_peer: the host did not take its last turn within 60 s\n");
    return 1;
  }
  const int rounds = shared->rounds;
  shared->joined.store(2);
  shared->cv.notify_all();
  lock.unlock();
  std::printf("pingpong_peer: %d rounds done, %d turns in total\n", mine, rounds);
  return 0;
}
