// The cross-program free rate, side by side in one run: blocks allocated by
// one side and freed by the other through a ring of pointers, as
//   (a) two threads of one process with glibc's malloc,
//   (b) two threads of one process with mimalloc 2.0.9 (the space's allocator),
//   (c) two programs of one space (the space's allocator; the consumer frees
//       blocks another program allocated).
// Rounds are interleaved; prints median frees/s and ratios as Markdown.
//
// usage: cross_free_compare TP_RUN TP_SPACE BENCH_CROSS_FREE MIMALLOC_SO [ROUNDS [N]]
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_run.h"

namespace {

using tp_bench::median;
using tp_bench::Run;
using tp_bench::spawn_and_wait;

double rate_of(const Run& r, const std::string& what) {
  auto at = r.out.find("frees_per_s=");
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0 || at == std::string::npos) {
    fprintf(stderr, "cross_free_compare: %s failed (status %d): %s\n", what.c_str(), r.status, r.out.c_str());
    exit(1);
  }
  return atof(r.out.c_str() + at + 12);
}

// Starts the producer in the space, reads the ring's address from its first
// line, runs the consumer to completion, then reaps the producer.
double across_programs(const std::string& tp_run, const std::string& space, const std::string& prog,
                       const std::string& n) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) exit(1);
  std::vector<std::string> args{tp_run, "--space", space, prog, "produce", n};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t producer;
  if (posix_spawn(&producer, argv[0], &fa, nullptr, argv.data(), environ) != 0) exit(1);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  if (line.rfind("0x", 0) != 0) {
    fprintf(stderr, "cross_free_compare: the producer printed '%s', not an address\n", line.c_str());
    exit(1);
  }
  Run consumer = spawn_and_wait({tp_run, "--space", space, prog, "consume", line, n}, {}, false);
  int status;
  waitpid(producer, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "cross_free_compare: the producer failed (status %d)\n", status);
    exit(1);
  }
  return rate_of(consumer, "the consumer");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE BENCH_CROSS_FREE MIMALLOC_SO [ROUNDS [N]]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], tp_space = argv[2], prog = argv[3], mimalloc = argv[4];
  int rounds = argc > 5 ? atoi(argv[5]) : 7;
  std::string n = argc > 6 ? argv[6] : "5000000";
  std::string space = "bench-xfree-" + std::to_string(getpid());
  spawn_and_wait({tp_space, "start", space}, {}, false);

  std::vector<double> glibc, mi, programs;
  for (int r = 0; r < rounds; ++r) {
    glibc.push_back(rate_of(spawn_and_wait({prog, "threads", n}, {}, false), "threads (glibc)"));
    mi.push_back(rate_of(spawn_and_wait({prog, "threads", n}, {"LD_PRELOAD=" + mimalloc}, false), "threads (mimalloc)"));
    programs.push_back(across_programs(tp_run, space, prog, n));
  }
  spawn_and_wait({tp_space, "stop", space}, {}, true);

  double base = median(mi);
  printf("| variant (%s frees each, %d rounds, interleaved) | median frees/s | ratio to threads (mimalloc) |\n",
         n.c_str(), rounds);
  printf("|---|---:|---:|\n");
  printf("| two threads of one process, glibc malloc | %.2fM | %.2fx |\n", median(glibc) / 1e6, median(glibc) / base);
  printf("| two threads of one process, mimalloc 2.0.9 | %.2fM | 1.00x |\n", base / 1e6);
  printf("| two programs of one space (the consumer frees the producer's blocks) | %.2fM | %.2fx |\n",
         median(programs) / 1e6, median(programs) / base);
  tp_bench::summary("- **(d) Cross-program free**: %.1fM frees/s of blocks another program allocated, %.2fx of two "
                    "threads with the same allocator (goal >= 10M/s: %s).",
                    median(programs) / 1e6, median(programs) / base, median(programs) >= 10e6 ? "met" : "missed");
  return 0;
}
