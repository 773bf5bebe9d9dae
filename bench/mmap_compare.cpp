// An mmap-heavy program supervised vs not, side by side in one run. The same
// program (bench/programs/bench_mmap) runs natively and through `tp-run`,
// interleaved round by round (the order alternating). In a threadproc the
// memory supervisor traps mmap, munmap, mremap, brk, shmat, shmdt and io_setup
// (seccomp user notification; the host performs the call inside the program's
// slot and answers); page faults and every other call run as natively.
//
// Two tables: the whole program's wall time (launch included), and the median
// time of one call of each kind as the program measured it around the call;
// the cost of intercepting one call = threadproc median - native median.
//
// usage: mmap_compare TP_RUN BENCH_MMAP [ROUNDS]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_run.h"

using tp_bench::median;
using tp_bench::run_captured;

namespace {

using Fields = std::map<std::string, double>;

// "mmap=123 munmap=456 ..." -> {mmap: 123, ...}
Fields parse(const std::string& out, const std::string& who) {
  Fields f;
  std::istringstream in(out);
  for (std::string tok; in >> tok;) {
    auto eq = tok.find('=');
    if (eq == std::string::npos) continue;
    f[tok.substr(0, eq)] = strtod(tok.c_str() + eq + 1, nullptr);
  }
  if (!f.count("loop")) {
    fprintf(stderr, "mmap_compare: %s printed '%s'\n", who.c_str(), out.c_str());
    exit(1);
  }
  return f;
}

struct Call {
  const char* field;  // as bench_mmap prints it
  const char* label;
  bool trapped;
};

struct Workload {
  const char* mode;
  const char* count;
  const char* what;
  const char* trapped;  // what the supervisor traps, per iteration
  std::vector<Call> calls;
  std::vector<double> wall[2];            // µs; [0] native, [1] threadproc
  std::map<std::string, std::vector<double>> per_call[2];  // ns
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s TP_RUN BENCH_MMAP [ROUNDS]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], program = argv[2];
  int rounds = argc > 3 ? atoi(argv[3]) : 10;
  if (rounds < 1) rounds = 1;
  const Call mmap_c{"mmap", "mmap", true}, munmap_c{"munmap", "munmap", true}, mremap_c{"mremap", "mremap", true};
  std::vector<Workload> workloads{
      {"small", "20000", "20,000 x {mmap 64 KiB, touch 16 pages, munmap}", "mmap, munmap",
       {mmap_c, munmap_c, {"touch", "touch 16 pages (page faults)", false}}, {}, {}},
      {"large", "2000", "2,000 x {mmap 4 MiB, munmap}", "mmap, munmap", {mmap_c, munmap_c}, {}, {}},
      {"remap", "5000", "5,000 x {mmap 64 KiB, fill, mremap to 1 MiB, touch 1 page, munmap}",
       "mmap, mremap, munmap", {mmap_c, mremap_c, munmap_c, {"touch", "touch 1 page (page fault)", false}}, {}, {}},
      {"fragmented", "2000",
       "5,000 live 64 KiB mappings with 64 KiB holes (set-up: 15,000 calls), then 2,000 x {mmap 128 KiB, munmap}",
       "mmap, munmap", {mmap_c, munmap_c}, {}, {}},
  };
  for (auto& w : workloads) {
    std::vector<std::string> cmd[2] = {{program, w.mode, w.count}, {tp_run, program, w.mode, w.count}};
    const char* who[2] = {"native", "tp-run"};
    run_captured(cmd[0]);  // warm caches
    run_captured(cmd[1]);
    for (int r = 0; r < rounds; ++r)
      for (int i = 0; i < 2; ++i) {
        int v = r % 2 ? 1 - i : i;  // alternate which goes first
        auto run = run_captured(cmd[v]);
        Fields f = parse(run.out, std::string(who[v]) + " " + program + " " + w.mode);
        w.wall[v].push_back(run.wall_us);
        for (const auto& c : w.calls) w.per_call[v][c.field].push_back(f[c.field]);
      }
  }

  printf("Trapped in a threadproc (when the calling instruction lies in the arena): mmap, munmap, mremap, brk, "
         "shmat, shmdt, io_setup. Not trapped: page faults, madvise, mprotect, everything else.\n\n");
  printf("| workload (whole program, launch included; median of %d interleaved rounds) | trapped per iteration | "
         "native ms | threadproc ms | threadproc / native |\n",
         rounds);
  printf("|---|---|---:|---:|---:|\n");
  for (auto& w : workloads) {
    double n = median(w.wall[0]) / 1e3, t = median(w.wall[1]) / 1e3;
    printf("| %s | %s | %.1f | %.1f | %.2fx |\n", w.what, w.trapped, n, t, t / n);
  }
  printf("\n| workload | call (median per call, timed inside the program) | trapped | native µs | threadproc µs | "
         "cost of interception µs (threadproc - native) |\n");
  printf("|---|---|---|---:|---:|---:|\n");
  for (auto& w : workloads)
    for (const auto& c : w.calls) {
      double n = median(w.per_call[0][c.field]) / 1e3, t = median(w.per_call[1][c.field]) / 1e3;
      printf("| %s | %s | %s | %.2f | %.2f | %+.2f |\n", w.mode, c.label, c.trapped ? "yes" : "no", n, t, t - n);
    }
  {
    auto& w = workloads[1];  // large: mmap 4 MiB + munmap, nothing else
    double n = median(w.per_call[0]["mmap"]) / 1e3, t = median(w.per_call[1]["mmap"]) / 1e3;
    auto& s = workloads[0];
    double sn = median(s.wall[0]) / 1e3, st = median(s.wall[1]) / 1e3;
    tp_bench::summary("- **(f) Memory supervisor**: one intercepted mmap costs %.1f µs vs %.1f µs natively (+%.1f µs); "
                      "an mmap-heavy program (%s) takes %.0f ms vs %.0f ms, **%.2fx slower**; Threadprocs loses here.",
                      t, n, t - n, s.what, st, sn, st / sn);
  }
  return 0;
}
