// The two sides of a benchmark (producer/consumer, A/B, host/peer) each pin
// themselves to one CPU, the first side to the first CPU this process may use
// and the second side to the second, so that every run, threads or
// threadprocs or processes, has its two sides on two different CPUs instead of
// wherever the scheduler happened to place them (which made runs bimodal on a
// 2-CPU machine). TP_BENCH_PIN=0 turns it off. Does nothing with one CPU.
#pragma once

#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <thread>

inline void pin_side(int side) {
  const char* off = getenv("TP_BENCH_PIN");
  if (off && strcmp(off, "0") == 0) return;
  // The CPUs the process could use before either side pinned itself (a
  // thread inherits its creator's mask: read it once, at the first call).
  static cpu_set_t allowed;
  static const bool known = sched_getaffinity(0, sizeof allowed, &allowed) == 0;
  if (!known || CPU_COUNT(&allowed) < 2) return;
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed) || seen++ != side) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    sched_setaffinity(0, sizeof one, &one);  // the calling thread only
    return;
  }
}

// The threads variant of every two-sided benchmark: `first` runs on this
// thread as side 0, `second` on a new thread as side 1; returns when both end.
template <class First, class Second>
void run_pinned_pair(First first, Second second) {
  pin_side(0);
  std::thread other([&] {
    pin_side(1);
    second();
  });
  first();
  other.join();
}
