// The zero-copy claim, side by side in one run: a
// std::unordered_map<std::string, std::string> built by program A is handed
// over to program B, which reads every entry, in the four ways a user would
// pick (bench/programs/bench_handoff, where the measurement is defined):
//   threads          two threads of one process pass the map's address
//   threadprocs      two programs of one space (tp-run --space) pass the
//                    map's address; B reads A's map in place, then frees it
//   Boost.Interprocess  A copies the map into a managed_shared_memory segment
//                    (boost::unordered_map of interprocess strings); B opens
//                    the segment and reads it in place
//   serialization    length-prefixed, streamed through the socket; B
//                    deserializes into its own std::unordered_map
// The same Unix stream socket joins A and B in every variant, both sides
// polling it once the handoff starts. All variants use the same allocator, mimalloc 2.0.9 (the
// space's allocator, preloaded in the ordinary processes), so the only
// difference is the handoff. For each size, rounds are interleaved with the
// order rotating; prints Markdown tables of medians and ratios, and writes
// the medians for the plot to PLOT_DATA.
//
// usage: handoff_compare TP_RUN TP_SPACE BENCH_HANDOFF MIMALLOC_SO PLOT_DATA [SIZES ROUNDS]
//   SIZES and ROUNDS are comma-separated lists of the same length
//   (default 1000,10000,100000,1000000 and 21,21,11,7). TP_BENCH_VERBOSE=1
//   prints every sample on stderr.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "bench_run.h"

using namespace tp_bench;

namespace {

std::vector<long> list_arg(const std::string& s) {
  std::vector<long> v;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) v.push_back(atol(item.c_str()));
  return v;
}

struct Sample {
  double ready_us, read_us, free_us;
};

Sample parse(const std::string& out, const std::string& who) {
  return {field(out, "ready_ns", who) / 1e3, field(out, "read_ns", who) / 1e3, field(out, "free_ns", who) / 1e3};
}

// Starts B (it prints "listening" once its socket accepts), then A; returns
// what B measured.
Sample pair(const std::vector<std::string>& b, const std::vector<std::string>& a, const std::vector<std::string>& env,
            const std::string& who) {
  Child rb = spawn_piped(b, env);
  std::string line = read_line(rb.out);
  if (line != "listening") {
    fprintf(stderr, "handoff_compare: %s: B printed '%s', not 'listening'\n", who.c_str(), line.c_str());
    exit(1);
  }
  Child ra = spawn_piped(a, env, false);
  std::string out = read_rest(rb.out);
  close(rb.out);
  wait_ok(rb.pid, who + " (B: " + command_line(b) + ")");
  wait_ok(ra.pid, who + " (A: " + command_line(a) + ")");
  return parse(out, who);
}

struct Variant {
  const char* name;
  std::vector<std::vector<Sample>> samples;  // [size][round]
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 8) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE BENCH_HANDOFF MIMALLOC_SO PLOT_DATA [SIZES ROUNDS]\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  std::string tp_run = argv[1], tp_space = argv[2], prog = argv[3], mimalloc = argv[4], plot = argv[5];
  std::vector<long> sizes = list_arg(argc == 8 ? argv[6] : "1000,10000,100000,1000000");
  std::vector<long> rounds = list_arg(argc == 8 ? argv[7] : "21,21,11,7");
  if (sizes.empty() || sizes.size() != rounds.size()) {
    fprintf(stderr, "handoff_compare: SIZES and ROUNDS differ in length\n");
    return 2;
  }
  std::string space = "bench-handoff-" + std::to_string(getpid());
  std::string sock = "/tmp/tp-bench-handoff-" + std::to_string(getpid()) + ".sock";
  std::string shm = "/tp-bench-handoff-" + std::to_string(getpid());
  start_space(tp_space, space);
  const std::vector<std::string> mi{"LD_PRELOAD=" + mimalloc};
  const bool have_boost = field(run_captured({prog, "features"}).out, "boost", prog) == 1;

  enum { kThreads, kTp, kBip, kSer, kVariants };
  std::vector<Variant> v{{"threads", {}}, {"threadprocs", {}}, {"Boost.Interprocess", {}}, {"serialization", {}}};
  for (auto& x : v) x.samples.resize(sizes.size());

  auto run = [&](int which, long n) -> Sample {
    std::string ns = std::to_string(n);
    switch (which) {
      case kThreads: {
        Run r = run_captured({prog, "threads", ns}, mi);
        return parse(r.out, "threads");
      }
      case kTp:
        return pair({tp_run, "--space", space, prog, "recv", "ptr", sock},
                    {tp_run, "--space", space, prog, "send", "ptr", ns, sock}, {}, "threadprocs");
      case kBip:
        return pair({prog, "recv", "bip", sock}, {prog, "send", "bip", ns, sock, shm}, mi, "Boost.Interprocess");
      default:
        return pair({prog, "recv", "ser", sock}, {prog, "send", "ser", ns, sock}, mi, "serialization");
    }
  };
  std::vector<int> active{kThreads, kTp};
  if (have_boost) active.push_back(kBip);
  else fprintf(stderr, "handoff_compare: %s was built without Boost: no Boost.Interprocess column\n", prog.c_str());
  active.push_back(kSer);

  for (int w : active) run(w, 1000);  // warm caches
  for (size_t s = 0; s < sizes.size(); ++s)
    for (long r = 0; r < rounds[s]; ++r)
      for (size_t i = 0; i < active.size(); ++i) {
        int w = active[(i + size_t(r)) % active.size()];  // rotate which goes first
        v[size_t(w)].samples[s].push_back(run(w, sizes[s]));
        if (getenv("TP_BENCH_VERBOSE"))
          fprintf(stderr, "handoff_compare: %ld entries, %s: ready %.1f µs, read %.1f µs, free %.1f µs\n", sizes[s],
                  v[size_t(w)].name, v[size_t(w)].samples[s].back().ready_us, v[size_t(w)].samples[s].back().read_us,
                  v[size_t(w)].samples[s].back().free_us);
      }
  unlink(sock.c_str());

  auto med = [&](int w, size_t s, double Sample::*f) {
    std::vector<double> x;
    for (const auto& smp : v[size_t(w)].samples[s]) x.push_back(smp.*f);
    return median(x);
  };
  auto table = [&](const char* title, double Sample::*f) {
    printf("| %s: median µs | runs | threads | threadprocs |%s serialization | threadprocs / threads |%s "
           "serialization / threadprocs |\n",
           title, have_boost ? " Boost.Interprocess |" : "", have_boost ? " Boost.Interprocess / threadprocs |" : "");
    printf("|---:|---:|---:|---:|%s---:|---:|%s---:|\n", have_boost ? "---:|" : "", have_boost ? "---:|" : "");
    for (size_t s = 0; s < sizes.size(); ++s) {
      double th = med(kThreads, s, f), tp = med(kTp, s, f), ser = med(kSer, s, f);
      printf("| %s entries | %ld | %s | %s |", human(double(sizes[s])).c_str(), rounds[s], human(th).c_str(),
             human(tp).c_str());
      if (have_boost) printf(" %s |", human(med(kBip, s, f)).c_str());
      printf(" %s | %s |", human(ser).c_str(), ratio(tp / th).c_str());
      if (have_boost) printf(" %s |", ratio(med(kBip, s, f) / tp).c_str());
      printf(" %s |\n", ratio(ser / tp).c_str());
    }
  };
  table("B holds a usable map", &Sample::ready_us);
  printf("\n");
  table("B has read every entry", &Sample::read_us);
  printf("\n| B frees the map: median µs | threads (A's map) | threadprocs (A's map: cross-program free) | "
         "serialization (B's own copy) | threadprocs / threads |\n");
  printf("|---:|---:|---:|---:|---:|\n");
  for (size_t s = 0; s < sizes.size(); ++s) {
    double th = med(kThreads, s, &Sample::free_us), tp = med(kTp, s, &Sample::free_us);
    printf("| %s entries | %s | %s | %s | %s |\n", human(double(sizes[s])).c_str(), human(th).c_str(),
           human(tp).c_str(), human(med(kSer, s, &Sample::free_us)).c_str(), ratio(tp / th).c_str());
  }

  // Medians for gnuplot: entries, then ready and read (µs) of each variant.
  if (FILE* f = fopen(plot.c_str(), "w")) {
    fprintf(f, "# entries threads_ready threadprocs_ready bip_ready ser_ready threads_read threadprocs_read bip_read "
               "ser_read (µs; bip is NaN when not built)\n");
    for (size_t s = 0; s < sizes.size(); ++s) {
      fprintf(f, "%ld", sizes[s]);
      for (double Sample::*fld : {&Sample::ready_us, &Sample::read_us})
        for (int w : {int(kThreads), int(kTp), int(kBip), int(kSer)})
          fprintf(f, " %.3f", w == kBip && !have_boost ? 0.0 / 0.0 : med(w, s, fld));
      fprintf(f, "\n");
    }
    fclose(f);
  } else {
    perror(plot.c_str());
    return 1;
  }

  // The headline: the largest size.
  size_t last = sizes.size() - 1;
  double tp_ready = med(kTp, last, &Sample::ready_us), ser_ready = med(kSer, last, &Sample::ready_us);
  double tp_read = med(kTp, last, &Sample::read_us), ser_read = med(kSer, last, &Sample::read_us);
  double th_ready = med(kThreads, last, &Sample::ready_us), th_read = med(kThreads, last, &Sample::read_us);
  std::string bip;
  if (have_boost)
    bip = ", Boost.Interprocess " + human(med(kBip, last, &Sample::ready_us) / 1e3) + " ms (" +
          ratio(med(kBip, last, &Sample::ready_us) / tp_ready) + ")";
  summary("- **(a) Map handoff, %s entries**: B holds a usable map %s µs after A starts handing over with "
          "threadprocs, vs %s ms with serialization: **%s faster** (goal >= 10,000x: %s)%s; threads take %s µs "
          "(threadprocs / threads = %s). Counting B's read of every entry: %s ms vs %s ms, %s (threads: %s ms, "
          "%s).",
          human(double(sizes[last])).c_str(), human(tp_ready).c_str(), human(ser_ready / 1e3).c_str(),
          ratio(ser_ready / tp_ready).c_str(), ser_ready / tp_ready >= 10000 ? "met" : "missed", bip.c_str(),
          human(th_ready).c_str(), ratio(tp_ready / th_ready).c_str(), human(tp_read / 1e3).c_str(),
          human(ser_read / 1e3).c_str(), ratio(ser_read / tp_read).c_str(), human(th_read / 1e3).c_str(),
          ratio(tp_read / th_read).c_str());
  return 0;
}
