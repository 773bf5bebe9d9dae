// Launch latency, measured side by side in one run: the same program started
// (a) directly with posix_spawn, (b) through `tp-run` (a private space), and
// (c) through `tp-run --space` (a named space that is already running).
// The variants are interleaved round by round, so drift in the machine's
// load hits all of them alike. Prints medians and ratios as a Markdown table.
//
// usage: launch_latency TP_RUN TP_SPACE PROGRAM [ROUNDS]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_run.h"

extern char** environ;

namespace {

double now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// Runs argv to completion with stdout to /dev/null; returns microseconds.
double timed_run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  double start = now_us();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    perror("posix_spawn");
    exit(1);
  }
  int status;
  waitpid(pid, &status, 0);
  double elapsed = now_us() - start;
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "launch_latency: %s failed (status %d)\n", args[0].c_str(), status);
    exit(1);
  }
  return elapsed;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE PROGRAM [ROUNDS]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], tp_space = argv[2], program = argv[3];
  int rounds = argc > 4 ? atoi(argv[4]) : 200;
  std::string space = "bench-launch-" + std::to_string(getpid());
  if (timed_run({tp_space, "start", space}) < 0) return 1;

  struct Variant {
    const char* name;
    std::vector<std::string> args;
    std::vector<double> samples;
  };
  std::vector<Variant> variants{
      {"direct (posix_spawn of the program)", {program}, {}},
      {"tp-run (private space)", {tp_run, program}, {}},
      {"tp-run --space (running named space)", {tp_run, "--space", space, program}, {}},
  };
  for (auto& v : variants) timed_run(v.args);  // warm caches
  for (int r = 0; r < rounds; ++r)
    for (auto& v : variants) v.samples.push_back(timed_run(v.args));
  timed_run({tp_space, "stop", space});

  double base = median(variants[0].samples);
  printf("| variant (%d rounds, interleaved) | median µs | p90 µs | ratio to direct |\n", rounds);
  printf("|---|---:|---:|---:|\n");
  for (auto& v : variants)
    printf("| %s | %.0f | %.0f | %.2fx |\n", v.name, median(v.samples), percentile(v.samples, 0.9),
           median(v.samples) / base);
  double named = median(variants[2].samples), priv = median(variants[1].samples);
  tp_bench::summary("- **(e) Launch latency** (hello world): %.0f µs through `tp-run --space` vs %.0f µs with "
                    "posix_spawn, **%.2fx slower** (private space: %.2fx); Threadprocs loses here.",
                    named, base, named / base, priv / base);
  return 0;
}
