// A space with 1000 live programs vs 1000 ordinary processes, side by side in
// one run: the launch rate, and the memory the kernel keeps per program.
// The program (bench/programs/bench_idle) writes one byte to stdout once it
// runs and then sleeps in read(2) on stdin until the driver closes the pipe.
//
// Each round starts N programs as fast as the driver can (it does not wait
// for one before starting the next) and times from the first start to the
// N-th byte read (launch rate = N / that time):
//   processes    N x posix_spawn(bench_idle)
//   threadprocs  N x posix_spawn(tp-run --space NAME bench_idle), into one
//                running space of N+ slots (tp-space start --slots --slot-size)
// With all N alive it reads, from /proc:
//   processes    the sum over the N processes of VmPTE and VmRSS (status) and
//                Pss (smaps_rollup)
//   threadprocs  the space's one address space (the host's pid: all programs
//                share its mm, so its figures count each page once), minus
//                the same figures of the empty space just before; and the sum
//                over the N tp-run launchers, which stay alive (one per
//                program: they stand in for it, see the user guide)
// Rounds alternate (the order rotating); rates are medians over the rounds,
// memory figures medians too. Everything started is killed if the driver
// fails; the space is stopped on exit.
//
// usage: many_programs TP_RUN TP_SPACE BENCH_IDLE [N [ROUNDS]]
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_run.h"

using namespace tp_bench;

namespace {

std::vector<pid_t> g_live;  // children to kill if the driver fails

void kill_live() {
  for (pid_t p : g_live) kill(p, SIGKILL);
  for (pid_t p : g_live) waitpid(p, nullptr, 0);
  g_live.clear();
}

void on_signal(int) { exit(1); }  // runs the atexit handlers: kill, stop the space

struct Mem {
  double pte_kb = 0, rss_kb = 0, pss_kb = 0;
  Mem& operator+=(const Mem& o) {
    pte_kb += o.pte_kb, rss_kb += o.rss_kb, pss_kb += o.pss_kb;
    return *this;
  }
};

double kb_of(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return atof(line.c_str() + key.size() + 1);
  fprintf(stderr, "many_programs: no %s in %s\n", key.c_str(), file.c_str());
  exit(1);
}

Mem mem_of(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid);
  return {kb_of(dir + "/status", "VmPTE"), kb_of(dir + "/status", "VmRSS"), kb_of(dir + "/smaps_rollup", "Pss")};
}

// The host pid of space NAME, from `tp-space list --json`.
pid_t host_pid(const std::string& tp_space, const std::string& name) {
  std::string out = run_captured({tp_space, "list", "--json"}).out;
  auto at = out.find("\"name\":\"" + name + "\"");
  auto pid = at == std::string::npos ? at : out.find("\"pid\":", at);
  if (pid == std::string::npos) {
    fprintf(stderr, "many_programs: space %s not in '%s'\n", name.c_str(), out.c_str());
    exit(1);
  }
  return pid_t(atol(out.c_str() + pid + 6));
}

int programs_in(const std::string& tp_space, const std::string& name) {
  std::string out = run_captured({tp_space, "list", "--json"}).out;
  auto at = out.find("\"name\":\"" + name + "\"");
  auto p = at == std::string::npos ? at : out.find("\"programs\":", at);
  return p == std::string::npos ? -1 : atoi(out.c_str() + p + 11);
}

struct Round {
  double rate;  // programs/s
  Mem mem;      // processes: the sum; threadprocs: the space's delta
  Mem launchers;
};

// Starts n copies of args, each with stdin and stdout on the driver's pipes;
// returns the launch rate once all n have written their byte. `measure` runs
// while all are alive; then stdin is closed and every child must exit 0.
template <typename Measure>
double launch(const std::vector<std::string>& args, int n, Measure measure) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    perror("pipe2");
    exit(1);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<pid_t> pids;
  double t0 = now_us();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (int e = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ); e != 0) {
      fprintf(stderr, "many_programs: posix_spawn %s (#%d): %s\n", argv[0], i, strerror(e));
      exit(1);
    }
    pids.push_back(pid);
    g_live.push_back(pid);
  }
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  // One byte per running program; a child that exits early fails the run.
  int got = 0;
  while (got < n) {
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, 1000);
    if (r > 0) {
      char buf[4096];
      ssize_t k = read(out[0], buf, sizeof buf);
      if (k <= 0) break;
      got += int(k);
      continue;
    }
    int status;
    pid_t dead = waitpid(-1, &status, WNOHANG);
    if (dead > 0) {
      fprintf(stderr, "many_programs: %s exited early (status %d) with %d of %d running\n",
              command_line(args).c_str(), status, got, n);
      exit(1);
    }
    if (now_us() - t0 > 300e6) {
      fprintf(stderr, "many_programs: only %d of %d programs running after 5 minutes\n", got, n);
      exit(1);
    }
  }
  double rate = n / ((now_us() - t0) / 1e6);
  if (got != n) {
    fprintf(stderr, "many_programs: %d of %d programs wrote their byte\n", got, n);
    exit(1);
  }
  measure(pids);
  close(in[1]);  // every program reads end-of-file and exits
  for (pid_t pid : pids) wait_ok(pid, command_line(args));
  g_live.clear();
  close(out[0]);
  return rate;
}

std::string kib(double kb) { return human(kb) + " KiB"; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s TP_RUN TP_SPACE BENCH_IDLE [N [ROUNDS]]\n", argv[0]);
    return 2;
  }
  std::string tp_run = argv[1], tp_space = argv[2], prog = argv[3];
  int n = argc > 4 ? atoi(argv[4]) : 1000;
  int rounds = argc > 5 ? atoi(argv[5]) : 3;
  // Every launcher and program holds a few descriptors in the host (its
  // connection, pidfd, supervisor listener): raise the soft limits the host
  // inherits, and check there are pids enough (N launchers + N programs).
  rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (nofile.rlim_cur < rlim_t(8 * n + 256))
    fprintf(stderr, "many_programs: warning: RLIMIT_NOFILE %llu may be too low for %d programs (ulimit -n)\n",
            static_cast<unsigned long long>(nofile.rlim_cur), n);
  rlimit nproc;
  getrlimit(RLIMIT_NPROC, &nproc);
  if (nproc.rlim_cur != RLIM_INFINITY && nproc.rlim_cur < nproc.rlim_max) {
    nproc.rlim_cur = nproc.rlim_max;
    setrlimit(RLIMIT_NPROC, &nproc);
  }

  std::string space = "bench-many-" + std::to_string(getpid());
  int slots = n + 24;
  start_space(tp_space, space, {"--slots", std::to_string(slots), "--slot-size", "16G"});
  atexit(kill_live);  // runs before the space is stopped
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  pid_t host = host_pid(tp_space, space);

  std::vector<Round> procs, tps;
  std::vector<double> empty_pte;
  auto run_procs = [&] {
    Round r;
    r.rate = launch({prog}, n, [&](const std::vector<pid_t>& pids) {
      for (pid_t p : pids) r.mem += mem_of(p);
    });
    procs.push_back(r);
  };
  auto run_tps = [&] {
    Round r;
    Mem empty = mem_of(host);
    empty_pte.push_back(empty.pte_kb);
    r.rate = launch({tp_run, "--space", space, prog}, n, [&](const std::vector<pid_t>& pids) {
      Mem full = mem_of(host);
      r.mem = {full.pte_kb - empty.pte_kb, full.rss_kb - empty.rss_kb, full.pss_kb - empty.pss_kb};
      for (pid_t p : pids) r.launchers += mem_of(p);
    });
    tps.push_back(r);
    // Wait until the host has reclaimed every slot before the next round.
    for (int i = 0; programs_in(tp_space, space) != 0; ++i) {
      if (i > 600) {
        fprintf(stderr, "many_programs: the space still has programs 60 s after they ended\n");
        exit(1);
      }
      usleep(100000);
    }
  };
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) {
      run_procs();
      run_tps();
    } else {
      run_tps();
      run_procs();
    }
  }

  auto med = [](const std::vector<Round>& v, auto get) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(get(r));
    return median(x);
  };
  double p_rate = med(procs, [](const Round& r) { return r.rate; });
  double t_rate = med(tps, [](const Round& r) { return r.rate; });
  Mem p{med(procs, [](const Round& r) { return r.mem.pte_kb; }), med(procs, [](const Round& r) { return r.mem.rss_kb; }),
        med(procs, [](const Round& r) { return r.mem.pss_kb; })};
  Mem s{med(tps, [](const Round& r) { return r.mem.pte_kb; }), med(tps, [](const Round& r) { return r.mem.rss_kb; }),
        med(tps, [](const Round& r) { return r.mem.pss_kb; })};
  Mem l{med(tps, [](const Round& r) { return r.launchers.pte_kb; }),
        med(tps, [](const Round& r) { return r.launchers.rss_kb; }),
        med(tps, [](const Round& r) { return r.launchers.pss_kb; })};
  Mem both = s;
  both += l;
  const double dn = n;
  auto cell = [&](double kb, double base_kb) { return kib(kb / dn) + " (" + ratio(kb / base_kb) + ")"; };

  printf("| %d programs alive at once (median of %d rounds) | launch rate, programs/s | page tables (VmPTE) per "
         "program | Pss per program | RSS per program |\n",
         n, rounds);
  printf("|---|---:|---:|---:|---:|\n");
  printf("| %d processes (posix_spawn), summed | %s (1.00x) | %s | %s | %s |\n", n, human(p_rate).c_str(),
         kib(p.pte_kb / dn).c_str(), kib(p.pss_kb / dn).c_str(), kib(p.rss_kb / dn).c_str());
  printf("| %d threadprocs: the space's one address space (growth over the empty space) | %s (%s) | %s | %s | %s |\n",
         n, human(t_rate).c_str(), ratio(t_rate / p_rate).c_str(), cell(s.pte_kb, p.pte_kb).c_str(),
         cell(s.pss_kb, p.pss_kb).c_str(), cell(s.rss_kb, p.rss_kb).c_str());
  printf("| their %d tp-run launchers, summed | | %s | %s | %s |\n", n, cell(l.pte_kb, p.pte_kb).c_str(),
         cell(l.pss_kb, p.pss_kb).c_str(), cell(l.rss_kb, p.rss_kb).c_str());
  printf("| threadprocs + launchers | | %s | %s | %s |\n", cell(both.pte_kb, p.pte_kb).c_str(),
         cell(both.pss_kb, p.pss_kb).c_str(), cell(both.rss_kb, p.rss_kb).c_str());
  printf("\nRatios in parentheses: against the %d processes. The empty space's own page tables: %s; with %d "
         "programs: %s in all (one address space, %d slots of 16 GiB).\n",
         n, kib(median(empty_pte)).c_str(), n, kib(median(empty_pte) + s.pte_kb).c_str(), slots);
  summary("- **(e) %d live programs**: launched at %s programs/s through tp-run vs %s/s as processes (%s); page "
          "tables %s per threadproc vs %s per process (%s; %s counting the tp-run launchers), Pss %s vs %s (%s; "
          "%s with launchers).",
          n, human(t_rate).c_str(), human(p_rate).c_str(), ratio(t_rate / p_rate).c_str(), kib(s.pte_kb / dn).c_str(),
          kib(p.pte_kb / dn).c_str(), ratio(s.pte_kb / p.pte_kb).c_str(), ratio(both.pte_kb / p.pte_kb).c_str(),
          kib(s.pss_kb / dn).c_str(), kib(p.pss_kb / dn).c_str(), ratio(s.pss_kb / p.pss_kb).c_str(),
          ratio(both.pss_kb / p.pss_kb).c_str());
  return 0;
}
