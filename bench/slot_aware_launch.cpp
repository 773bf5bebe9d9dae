// Launch latency of slot-aware images (issue 4), side by side in one run:
// posix_spawn of the dynamic and static hello, and launches into a running
// space of the ordinary and slot-aware images, dynamic and static-PIE.
//
// A launch into the space is timed the way a long-lived client (a supervisor,
// a test harness, a shell built on the API) sees it: connect to the space's
// socket, send the launch request with the image and stdio fds, wait for the
// "exited" report. That is tp-run without tp-run's own exec and start-up,
// which the launch_latency table shows separately. Rounds are interleaved.
//
// EXIT, a static-PIE that exits at its first instruction, shows the launch
// path alone, without the program's own start-up (ld.so, libc, page faults).
//
// usage: slot_aware_launch TP_SPACE DYNAMIC STATIC SLOT_AWARE_DYNAMIC SLOT_AWARE_STATIC EXIT [ROUNDS]
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
#include "host/runtime_dir.h"
#include "launcher/space_client.h"
#include "protocol/channel.h"
#include "protocol/messages.h"

extern char** environ;

namespace {

using tp_bench::median;
using tp_bench::now_us;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "slot_aware_launch: %s\n", what.c_str());
  std::exit(1);
}

double spawn_run(const std::string& path, int devnull) {
  char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, devnull, 1);
  double start = now_us();
  pid_t pid;
  if (posix_spawn(&pid, path.c_str(), &fa, nullptr, argv, environ) != 0) die("posix_spawn " + path);
  int status;
  waitpid(pid, &status, 0);
  double elapsed = now_us() - start;
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die(path + " failed");
  return elapsed;
}

// One launch into the running space, from connect to the exit report.
double space_run(const tp::SpaceAddress& addr, const std::string& path, int devnull, int cwd) {
  double start = now_us();
  auto sock = tp::connect_space(addr);
  if (!sock.ok()) die(sock.error().message);
  int image = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (image < 0) die("open " + path);
  tp::proto::LaunchRequest req;
  req.exec_path = path;
  req.argv = {path};
  req.stdio_mask = 0x2;  // stdout only
  std::vector<int> fds{image, cwd, devnull};
  if (!tp::proto::send_message(sock->get(), req, fds).ok()) die("send");
  close(image);
  tp::proto::MessageAssembler assembler;
  for (;;) {
    bool eof = false;
    auto got = tp::proto::recv_message(sock->get(), assembler, &eof);
    if (!got.ok() || !got->has_value()) die("no answer from the space");
    if (auto* err = std::get_if<tp::proto::ErrorReply>(&(*got)->msg)) die(err->message);
    if (auto* exited = std::get_if<tp::proto::Exited>(&(*got)->msg)) {
      if (exited->how != tp::proto::Exited::How::kExited || exited->value != 0) die(path + " failed in the space");
      return now_us() - start;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s TP_SPACE DYNAMIC STATIC SLOT_AWARE_DYNAMIC SLOT_AWARE_STATIC EXIT [ROUNDS]\n",
                 argv[0]);
    return 2;
  }
  const std::string tp_space = argv[1];
  const int rounds = argc > 7 ? std::atoi(argv[7]) : 200;
  const std::string space = "bench-slot-aware-" + std::to_string(getpid());
  tp_bench::start_space(tp_space, space);  // stopped at exit, also after die()
  const tp::SpaceAddress addr{space, tp::runtime_dir()};
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);

  struct Variant {
    std::string name, path;
    bool in_space;
    std::vector<double> samples;
  };
  std::vector<Variant> variants{
      {"posix_spawn, dynamic PIE (the baseline)", argv[2], false, {}},
      {"posix_spawn, static-PIE", argv[3], false, {}},
      {"space, ordinary dynamic PIE", argv[2], true, {}},
      {"space, ordinary static-PIE", argv[3], true, {}},
      {"space, slot-aware dynamic PIE", argv[4], true, {}},
      {"space, slot-aware static-PIE", argv[5], true, {}},
      {"posix_spawn, a static-PIE that only exits", argv[6], false, {}},
      {"space, a static-PIE that only exits", argv[6], true, {}},
  };
  auto run = [&](Variant& v) { return v.in_space ? space_run(addr, v.path, devnull, cwd) : spawn_run(v.path, devnull); };
  for (auto& v : variants) run(v);  // warm caches
  for (int r = 0; r < rounds; ++r)
    for (auto& v : variants) v.samples.push_back(run(v));
  tp_bench::stop_spaces();

  const double base = median(variants[0].samples);
  std::printf("| variant (%d rounds, interleaved) | median µs | ratio to posix_spawn of the dynamic PIE |\n", rounds);
  std::printf("|---|---:|---:|\n");
  for (auto& v : variants)
    std::printf("| %s | %.0f | %.2fx |\n", v.name.c_str(), median(v.samples), median(v.samples) / base);
  const double aware_static = median(variants[5].samples) / base, path_only = median(variants[7].samples) / base;
  tp_bench::summary("- Launch of a slot-aware static-PIE hello into a running space: %.0f µs, %sx of posix_spawn of "
                    "the dynamic hello (goal ≤ 0.5x: %s); the launch path alone (a program that only exits): %sx.",
                    median(variants[5].samples), tp_bench::human(aware_static).c_str(),
                    aware_static <= 0.5 ? "met" : "not met", tp_bench::human(path_only).c_str());
  return 0;
}
