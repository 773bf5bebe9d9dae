// One std::mutex contended by two sides, side by side in one run
// (bench/programs/bench_mutex): each side takes the mutex N times to
// increment a shared counter, as fast as it can.
//   two threads, default std::mutex                      the baseline
//   two threads, process-shared std::mutex               the same lock kind as
//                                                        the threadprocs row below
//   two threadprocs, process-shared std::mutex           what the user guide says
//                                                        to do between programs
//   two threadprocs, default std::mutex, multi-threaded  the other correct way:
//                                                        each program has started
//                                                        a thread of its own
// (A default mutex between two single-threaded programs of a space is not
// correct with glibc >= 2.35, see docs/limitations.md; it is not measured.)
// Rounds are interleaved with the order rotating. Prints medians and ratios.
//
// usage: mutex_compare TP_RUN TP_SPACE BENCH_MUTEX [ROUNDS [N]]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_run.h"

using namespace tp_bench;

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE BENCH_MUTEX [ROUNDS [N]]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], tp_space = argv[2], prog = argv[3];
  int rounds = argc > 4 ? atoi(argv[4]) : 9;
  std::string n = argc > 5 ? argv[5] : "2000000";
  std::string space = "bench-mutex-" + std::to_string(getpid());
  start_space(tp_space, space);

  struct Variant {
    const char* name;
    bool programs;
    const char* mode;
    std::vector<double> ns;
  };
  std::vector<Variant> v{{"two threads, default std::mutex", false, "private", {}},
                         {"two threads, std::mutex made PTHREAD_PROCESS_SHARED", false, "pshared", {}},
                         {"two threadprocs, std::mutex made PTHREAD_PROCESS_SHARED", true, "pshared", {}},
                         {"two threadprocs, default std::mutex, each program multi-threaded", true, "mt", {}}};
  auto run = [&](const Variant& x) -> double {
    if (!x.programs) return field(run_captured({prog, "threads", x.mode, n}).out, "ns_per_lock", x.name);
    Child host = spawn_piped({tp_run, "--space", space, prog, "host", x.mode, n});
    std::string addr = read_line(host.out);
    if (addr.rfind("0x", 0) != 0) {
      fprintf(stderr, "mutex_compare: the host printed '%s', not an address\n", addr.c_str());
      exit(1);
    }
    run_captured({tp_run, "--space", space, prog, "peer", x.mode, addr, n});
    std::string out = read_rest(host.out);
    close(host.out);
    wait_ok(host.pid, x.name);
    return field(out, "ns_per_lock", x.name);
  };
  for (const auto& x : v) run(x);  // warm caches
  for (int r = 0; r < rounds; ++r)
    for (size_t i = 0; i < v.size(); ++i) {
      auto& x = v[(i + size_t(r)) % v.size()];  // rotate which goes first
      x.ns.push_back(run(x));
    }

  double base = median(v[0].ns);
  printf("| variant (%s lock/unlock pairs per side, median of %d interleaved rounds) | ns per pair (min–max) | "
         "M pairs/s | time / threads (default mutex) |\n",
         n.c_str(), rounds);
  printf("|---|---:|---:|---:|\n");
  for (const auto& x : v) {
    auto [lo, hi] = std::minmax_element(x.ns.begin(), x.ns.end());
    printf("| %s | %.1f (%.1f–%.1f) | %.1f | %s |\n", x.name, median(x.ns), *lo, *hi, 1e3 / median(x.ns),
           ratio(median(x.ns) / base).c_str());
  }
  double ps_threads = median(v[1].ns), ps_tp = median(v[2].ns), mt_tp = median(v[3].ns);
  summary("- **(c) Contended std::mutex**: %.1f ns per lock/unlock between two threadprocs (process-shared), "
          "%s the time of two threads with the same process-shared mutex and %s of two threads with a default "
          "one; default mutex in multi-threaded programs: %s of threads.",
          ps_tp, ratio(ps_tp / ps_threads).c_str(), ratio(ps_tp / base).c_str(), ratio(mt_tp / base).c_str());
  return 0;
}
