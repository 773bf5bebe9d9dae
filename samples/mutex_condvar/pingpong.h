// What pingpong_host and pingpong_peer share: one mutex, one condition variable and the
// state they guard. The host allocates it; the peer finds it by address.
//
// The mutex and the condition variable must be *process-shared*. Each program of a space
// has its own glibc, and a program without threads of its own is single-threaded as far
// as its glibc knows. Since glibc 2.35 a single-threaded process takes and releases a
// process-private mutex with plain stores and never calls futex_wake: two such programs
// on one std::mutex break mutual exclusion and lose wake-ups (measured: glibc 2.36 aborts
// in pthread_mutex_lock, or both programs sleep forever). A process-shared mutex always
// takes the atomic path and uses shared futexes, which work between the programs of a
// space. std::mutex and std::condition_variable offer no attributes, so the constructor
// re-initialises their native pthread objects as process-shared before anyone uses them.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

struct PingPong {
  static constexpr int kRounds = 1000;  // turns each side takes
  static constexpr int kHost = 0;
  static constexpr int kPeer = 1;

  std::mutex m;
  std::condition_variable cv;
  int turn = kPeer;            // whose turn it is; the peer starts, the host answers
  int rounds = 0;              // turns taken so far by both sides
  std::atomic<int> joined{0};  // 1: a peer has attached; 2: the peer is done with us

  PingPong() {
    pthread_mutexattr_t mutex_attributes;
    pthread_mutexattr_init(&mutex_attributes);
    pthread_mutexattr_setpshared(&mutex_attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m.native_handle(), &mutex_attributes);
    pthread_mutexattr_destroy(&mutex_attributes);

    pthread_condattr_t cv_attributes;
    pthread_condattr_init(&cv_attributes);
    pthread_condattr_setpshared(&cv_attributes, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(cv.native_handle(), &cv_attributes);
    pthread_condattr_destroy(&cv_attributes);
  }
};

// Waits on `shared.cv` until `ready()` holds, for 60 s at most; false on timeout.
template <typename Predicate>
bool wait_for(PingPong& shared, std::unique_lock<std::mutex>& lock, Predicate ready) {
  return shared.cv.wait_for(lock, std::chrono::seconds(60), ready);
}
