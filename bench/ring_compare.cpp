// Messages per second through an SPSC ring, side by side in one run
// (bench/programs/bench_ring, the same code in every variant):
//   two threads, glibc malloc     a ring of pointers between two threads of one
//                                 process, the default allocator
//   two threads, mimalloc 2.0.9   the same with the space's allocator
//                                 preloaded: the baseline (same allocator as
//                                 threadprocs)
//   two threadprocs               a ring of pointers between two programs of
//                                 one space; the consumer deletes messages the
//                                 producer allocated (cross-program free)
//   two processes, copying        a ring of message slots in POSIX shared
//                                 memory: each payload copied in and out
// For each payload size, rounds are interleaved with the order rotating.
// Prints medians and ratios as Markdown.
//
// usage: ring_compare TP_RUN TP_SPACE BENCH_RING MIMALLOC_SO [ROUNDS [N_64B [N_4K]]]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_run.h"

using namespace tp_bench;

namespace {

double rate(const std::string& out, const std::string& who) { return field(out, "msgs_per_s", who); }

// Starts the producer, reads its first line (the ring's address, or "ready"),
// runs the consumer (which may take that line as an argument), reaps both.
double pair(const std::vector<std::string>& producer, std::vector<std::string> consumer, const std::string& who) {
  Child p = spawn_piped(producer);
  std::string line = read_line(p.out);
  close(p.out);
  if (line.empty()) {
    fprintf(stderr, "ring_compare: %s: the producer printed nothing\n", who.c_str());
    exit(1);
  }
  for (auto& a : consumer)
    if (a == "@") a = line;
  Run c = run_captured(consumer);
  wait_ok(p.pid, who + " producer (" + command_line(producer) + ")");
  return rate(c.out, who);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE BENCH_RING MIMALLOC_SO [ROUNDS [N_64B [N_4K]]]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], tp_space = argv[2], prog = argv[3], mimalloc = argv[4];
  int rounds = argc > 5 ? atoi(argv[5]) : 9;
  std::string n64 = argc > 6 ? argv[6] : "10000000", n4k = argc > 7 ? argv[7] : "1000000";
  std::string space = "bench-ring-" + std::to_string(getpid());
  std::string shm = "/tp-bench-ring-" + std::to_string(getpid());
  start_space(tp_space, space);

  struct Variant {
    const char* name;
    std::vector<double> rates[2];  // [payload][round]
  };
  enum { kGlibc, kMimalloc, kTp, kCopy, kVariants };
  std::vector<Variant> v{{"two threads, glibc malloc", {}},
                         {"two threads, mimalloc 2.0.9 (the space's allocator)", {}},
                         {"two threadprocs (the consumer frees the producer's messages)", {}},
                         {"two processes, payload copied through a shared-memory ring", {}}};
  const char* payload[2] = {"64", "4096"};
  const std::string count[2] = {n64, n4k};
  auto run = [&](int which, int p) -> double {
    const std::string& n = count[p];
    switch (which) {
      case kGlibc:
        return rate(run_captured({prog, "threads", n, payload[p]}).out, v[kGlibc].name);
      case kMimalloc:
        return rate(run_captured({prog, "threads", n, payload[p]}, {"LD_PRELOAD=" + mimalloc}).out, v[kMimalloc].name);
      case kTp:
        return pair({tp_run, "--space", space, prog, "produce", n, payload[p]},
                    {tp_run, "--space", space, prog, "consume", "@", n, payload[p]}, v[kTp].name);
      default:
        return pair({prog, "shm-produce", shm, n, payload[p]}, {prog, "shm-consume", shm, n}, v[kCopy].name);
    }
  };
  for (int p = 0; p < 2; ++p) {
    for (int w = 0; w < kVariants; ++w) run(w, p);  // warm caches
    for (int r = 0; r < rounds; ++r)
      for (int i = 0; i < kVariants; ++i) {
        int w = (i + r) % kVariants;  // rotate which goes first
        v[size_t(w)].rates[p].push_back(run(w, p));
      }
  }

  printf("| variant (median of %d interleaved rounds; min–max) | 64-byte messages/s | ratio to threads (mimalloc) | "
         "4 KiB messages/s | ratio to threads (mimalloc) |\n",
         rounds);
  printf("|---|---:|---:|---:|---:|\n");
  double base[2] = {median(v[kMimalloc].rates[0]), median(v[kMimalloc].rates[1])};
  for (const auto& x : v) {
    printf("| %s |", x.name);
    for (int p = 0; p < 2; ++p) {
      auto [lo, hi] = std::minmax_element(x.rates[p].begin(), x.rates[p].end());
      printf(" %.1fM (%.1f–%.1f) | %s |", median(x.rates[p]) / 1e6, *lo / 1e6, *hi / 1e6,
             ratio(median(x.rates[p]) / base[p]).c_str());
    }
    printf("\n");
  }
  printf("\n64-byte runs: %s messages each; 4 KiB runs: %s messages each.\n", n64.c_str(), n4k.c_str());
  double tp = median(v[kTp].rates[0]), copy = median(v[kCopy].rates[0]);
  summary("- **(b) Pointer ring, 64-byte messages**: %.1fM messages/s between two threadprocs, %s of two threads "
          "with the same allocator (goal >= 0.95x: %s), %s of two threads with glibc malloc; a shared-memory ring "
          "that copies the 64 bytes does %.1fM/s (%s of the pointer ring).",
          tp / 1e6, ratio(tp / base[0]).c_str(), tp / base[0] >= 0.95 ? "met" : "missed",
          ratio(tp / median(v[kGlibc].rates[0])).c_str(), copy / 1e6, ratio(copy / tp).c_str());
  return 0;
}
