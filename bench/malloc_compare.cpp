// Small malloc/free in a threadproc vs in a normal process, side by side in one
// run. The same program (bench/programs/bench_malloc) runs as four variants,
// interleaved round by round (the order rotating), so drift in the machine's
// load hits all alike:
//   native                  a normal process, glibc's malloc
//   native + mimalloc       a normal process with LD_PRELOAD=MIMALLOC_SO, the
//                           allocator a space gives its programs
//   tp-run                  a threadproc as tp-run starts it: the space's
//                           shared allocator (mimalloc) preloaded
//   tp-run --private-heap   a threadproc with glibc's malloc, whose main arena
//                           grows through brk, emulated per slot by the memory
//                           supervisor (each brk trapped)
// Each run reports its own median ns per malloc+free pair over K repeats; the
// table shows the median over the rounds. The goal (speed vs native >= 1.00x:
// not slower) compares a threadproc with a normal process using the same
// allocator; the original threadprocs forced MALLOC_MMAP_THRESHOLD_=0 and was
// 1157x slower here.
//
// usage: malloc_compare TP_RUN BENCH_MALLOC [ROUNDS [MIMALLOC_SO]]
//   Without MIMALLOC_SO (or when it is not readable) the "native + mimalloc"
//   row is left out; "--private-heap" is left out when tp-run refuses it.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_run.h"

using tp_bench::median;
using tp_bench::run_captured;

namespace {

struct Variant {
  const char* name;
  const char* allocator;
  int same_allocator_native;  // index of the native variant with the same malloc
  std::vector<std::string> prefix;  // before "PROGRAM MODE N K"
  std::vector<std::string> env;     // added to the environment
};

struct Workload {
  const char* mode;
  const char* what;
  std::string n, k;
  std::vector<std::vector<double>> ns;  // [variant][round]: ns per pair
};

double parse_ns(const tp_bench::Run& r, const std::string& who) {
  char* end = nullptr;
  double v = strtod(r.out.c_str(), &end);
  if (end == r.out.c_str() || v <= 0) {
    fprintf(stderr, "malloc_compare: %s printed '%s', not a number\n", who.c_str(), r.out.c_str());
    exit(1);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s TP_RUN BENCH_MALLOC [ROUNDS [MIMALLOC_SO]]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], program = argv[2];
  int rounds = argc > 3 ? atoi(argv[3]) : 10;
  if (rounds < 1) rounds = 1;
  std::string mimalloc = argc > 4 ? argv[4] : "";

  std::vector<Variant> variants{{"native", "glibc", 0, {}, {}}};
  if (!mimalloc.empty() && access(mimalloc.c_str(), R_OK) == 0)
    variants.push_back({"native + LD_PRELOAD mimalloc", "mimalloc", 1, {}, {"LD_PRELOAD=" + mimalloc}});
  else
    fprintf(stderr, "malloc_compare: no mimalloc library given or readable: no native mimalloc row\n");
  const int native_mi = variants.size() > 1 ? 1 : -1;
  variants.push_back({"tp-run", "space allocator (mimalloc)", native_mi, {tp_run}, {}});
  if (tp_bench::run_status({tp_run, "--private-heap", program, "pairs", "1", "1"}) == 0)
    variants.push_back({"tp-run --private-heap", "glibc, brk emulated per slot", 0, {tp_run, "--private-heap"}, {}});
  else
    fprintf(stderr, "malloc_compare: `%s --private-heap` failed: no private-heap row\n", tp_run.c_str());

  std::vector<Workload> workloads{
      {"pairs", "1M malloc(16..512)+free, 256 live", "1000000", "5", {}},
      {"bulk", "100k malloc(16..512) kept, then all freed", "100000", "5", {}},
  };
  const size_t nv = variants.size();
  for (auto& w : workloads) {
    w.ns.assign(nv, {});
    auto cmd = [&](const Variant& v) {
      auto c = v.prefix;
      c.insert(c.end(), {program, w.mode, w.n, w.k});
      return c;
    };
    for (const auto& v : variants) run_captured(cmd(v), v.env);  // warm caches
    for (int r = 0; r < rounds; ++r)
      for (size_t i = 0; i < nv; ++i) {
        size_t vi = (i + size_t(r)) % nv;  // rotate which variant goes first
        const auto& v = variants[vi];
        w.ns[vi].push_back(parse_ns(run_captured(cmd(v), v.env), v.name + std::string(" ") + tp_bench::command_line(cmd(v))));
      }
  }

  printf("| workload (K repeats per run; median of %d interleaved rounds) | variant | malloc | median ns/pair | "
         "time / native glibc | speed vs the same malloc natively (goal >= 1.00x) |\n",
         rounds);
  printf("|---|---|---|---:|---:|---:|\n");
  for (auto& w : workloads) {
    double base = median(w.ns[0]);
    for (size_t i = 0; i < nv; ++i) {
      const auto& v = variants[i];
      double t = median(w.ns[i]);
      std::string speed = "n/a";
      if (v.same_allocator_native >= 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.2fx", median(w.ns[size_t(v.same_allocator_native)]) / t);
        speed = buf;
      }
      printf("| %s, K=%s | %s | %s | %.1f | %.2fx | %s |\n", w.what, w.k.c_str(), v.name, v.allocator, t, t / base,
             speed.c_str());
    }
  }
  if (native_mi >= 0) {
    // variants: native, native + mimalloc, tp-run, ...
    const auto& w = workloads[0];
    double glibc = median(w.ns[0]), mi = median(w.ns[1]), tp = median(w.ns[2]);
    tp_bench::summary("- **(d) malloc/free** (1M pairs of 16..512 bytes): %.1f ns per pair in a threadproc vs %.1f ns "
                      "in a normal process with the same mimalloc (speed %.2fx) and %.1f ns with glibc's malloc.",
                      tp, mi, mi / tp, glibc);
  }
  return 0;
}
