// How quiet was the machine? Run in the background during the benchmarks
// (scripts/bench.sh): once a second it reads the CPU time of every process
// that is not the benchmarks' own (ours: an environment holding MARKER, a
// NAME=VALUE that bench.sh exports to everything it starts: the drivers, the
// programs, the spaces' hosts and their threadprocs; and this sampler and its
// parent).
// On SIGTERM it prints
//   others_cpu_s=S elapsed_s=E cpus=N top=COMM:S,COMM:S,COMM:S
// S is a lower bound: a process that starts and ends between two samples, or
// the last second of one that ends, is not seen.
//
// usage: cpu_share MARKER   (e.g. TP_BENCH_RUN=12345-1700000000)
#include <dirent.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

bool is_ours(pid_t pid, const std::string& marker) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string var;
  while (std::getline(in, var, '\0'))
    if (var == marker) return true;
  return false;
}

// utime + stime in clock ticks, and the command name; false if gone.
bool cpu_of(pid_t pid, long long& ticks, std::string& comm) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return false;
  comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14) utime = atoll(field.c_str());
    if (i == 15) {
      stime = atoll(field.c_str());
      break;
    }
  }
  ticks = utime + stime;
  return true;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MARKER\n", argv[0]);
    return 2;
  }
  std::string marker = argv[1];
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  const pid_t self = getpid(), parent = getppid();
  const double hz = double(sysconf(_SC_CLK_TCK)), start = now_s();
  std::map<pid_t, long long> seen;        // pid -> ticks at the last sample
  std::map<pid_t, bool> ours;             // decided once per pid
  std::map<std::string, long long> used;  // comm -> ticks used by others
  bool first = true;
  while (!g_stop) {
    DIR* d = opendir("/proc");
    if (!d) return 1;
    std::map<pid_t, long long> now;
    std::vector<pid_t> present;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      pid_t pid = pid_t(atol(e->d_name));
      if (pid == self || pid == parent) continue;
      present.push_back(pid);
      auto o = ours.find(pid);
      if (o == ours.end()) o = ours.emplace(pid, is_ours(pid, marker)).first;
      if (o->second) continue;
      long long ticks;
      std::string comm;
      if (!cpu_of(pid, ticks, comm)) continue;
      now[pid] = ticks;
      auto before = seen.find(pid);
      // A process first seen after the start: count all its time (it began
      // during the run, give or take a second).
      long long base = before != seen.end() ? before->second : (first ? ticks : 0);
      used[comm] += ticks - base;
    }
    closedir(d);
    seen.swap(now);
    // Forget decisions about pids that are gone (pids get reused).
    std::sort(present.begin(), present.end());
    for (auto it = ours.begin(); it != ours.end();)
      it = std::binary_search(present.begin(), present.end(), it->first) ? std::next(it) : ours.erase(it);
    first = false;
    for (int i = 0; i < 10 && !g_stop; ++i) usleep(100000);
  }
  long long total = 0;
  std::vector<std::pair<long long, std::string>> top;
  for (const auto& [comm, t] : used) {
    total += t;
    if (t > 0) top.push_back({t, comm});
  }
  std::sort(top.rbegin(), top.rend());
  printf("others_cpu_s=%.1f elapsed_s=%.1f cpus=%ld top=", double(total) / hz, now_s() - start,
         sysconf(_SC_NPROCESSORS_ONLN));
  for (size_t i = 0; i < top.size() && i < 4; ++i)
    printf("%s%s:%.0fs", i ? "," : "", top[i].second.c_str(), double(top[i].first) / hz);
  printf("\n");
  return 0;
}
