// Load and faults: a thousand programs alive at once in one space; a soak that mixes normal
// exits, crashes, kill -9 of programs and of launchers; a full space; crashes and kills next
// to a running neighbour. After each, the host's descriptors, mappings and threads are back
// at their baseline (its RSS within a small tolerance), and the space goes on serving.
//
// Environment: TP_IT_ALIVE (default 1000) programs at once; TP_IT_SOAK_ROUNDS (default 100)
// rounds of the soak. The thousand-program test and the soak are load tests: scripts/test.sh
// may leave them out of the sanitizer stage (names contain "ThousandPrograms" and "Soak").
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "fixture.h"

namespace tpit {
namespace {


// What the tests watch in the host: all of it describes the whole space, because the
// programs share the host's address space (maps, RSS) while holding their own fd tables.
struct HostMetrics {
  long fds = -1, maps = -1, threads = -1, rss_kb = -1;
};

long status_kb(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0)
      return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

// Sets a soft resource limit for what this test spawns from now on; restores it on scope
// exit. Programs get their launcher's limits, which are the test's.
class SoftLimit {
 public:
  SoftLimit(int resource, rlim_t value) : resource_(resource) {
    getrlimit(resource_, &saved_);
    rlimit changed = saved_;
    changed.rlim_cur = std::min(value, saved_.rlim_max);
    ok_ = setrlimit(resource_, &changed) == 0;
  }
  ~SoftLimit() { setrlimit(resource_, &saved_); }
  bool ok() const { return ok_; }

 private:
  int resource_;
  rlimit saved_{};
  bool ok_ = false;
};

std::string signal_name(int signal) {
  const char* name = sigabbrev_np(signal);
  return std::string("SIG") + (name ? name : "?");
}


// The pid in pong's first line, "ready PID\n"; -1 if there is none yet.
pid_t pong_pid(const std::string& out) {
  if (out.rfind("ready ", 0) != 0 || out.find('\n') == std::string::npos)
    return -1;
  return static_cast<pid_t>(std::atol(out.c_str() + 6));
}

class Load : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
  }


  static HostMetrics metrics(pid_t host) {
    const std::string proc = "/proc/" + std::to_string(host);
    return {static_cast<long>(count_entries(proc + "/fd")),
            static_cast<long>(count_lines(proc + "/maps")),
            static_cast<long>(count_entries(proc + "/task")), status_kb(host, "VmRSS")};
  }
  static HostMetrics stable_metrics(pid_t host) {
    const std::string proc = "/proc/" + std::to_string(host);
    HostMetrics m;
    m.fds = stable([&] { return static_cast<long>(count_entries(proc + "/fd")); });
    m.maps = stable([&] { return static_cast<long>(count_lines(proc + "/maps")); });
    m.threads = stable([&] { return static_cast<long>(count_entries(proc + "/task")); });
    m.rss_kb = stable([&] { return status_kb(host, "VmRSS"); });
    return m;
  }
  static std::string show(const HostMetrics& m) {
    return "fds " + std::to_string(m.fds) + ", maps " + std::to_string(m.maps) + ", threads " +
           std::to_string(m.threads) + ", VmRSS " + std::to_string(m.rss_kb) + " kB";
  }
  // The host's fds and threads settle to `baseline` exactly, its maps count to at most
  // `maps_tolerance` above, and its RSS to at most `rss_tolerance_kb` above.
  static void expect_back_at(pid_t host, const HostMetrics& baseline, long rss_tolerance_kb,
                             const std::string& after, long maps_tolerance = 0) {
    const std::string proc = "/proc/" + std::to_string(host);
    EXPECT_EQ(settle_to([&] { return static_cast<long>(count_entries(proc + "/fd")); },
                        baseline.fds),
              baseline.fds)
        << "the host's fd count after " << after;
    EXPECT_EQ(settle_to([&] { return static_cast<long>(count_entries(proc + "/task")); },
                        baseline.threads),
              baseline.threads)
        << "the host's thread count after " << after;
    if (kSanitized) {
      std::cout << "host after " << after << ": " << show(metrics(host)) << " (baseline "
                << show(baseline) << "; maps and RSS not compared under AddressSanitizer)\n";
      return;
    }
    const long maps =
        settle_until([&] { return static_cast<long>(count_lines(proc + "/maps")); },
                     [&](long v) { return v >= baseline.maps && v <= baseline.maps + maps_tolerance; });
    EXPECT_TRUE(maps >= baseline.maps && maps <= baseline.maps + maps_tolerance)
        << "the host's maps count after " << after << " is " << maps << ", baseline "
        << baseline.maps << " (tolerance +" << maps_tolerance << ")";
    const long rss = settle_until([&] { return status_kb(host, "VmRSS"); },
                                  [&](long v) { return v <= baseline.rss_kb + rss_tolerance_kb; });
    EXPECT_LE(rss, baseline.rss_kb + rss_tolerance_kb)
        << "the host's VmRSS grew from " << baseline.rss_kb << " kB after " << after;
    std::cout << "host after " << after << ": " << show(metrics(host)) << " (baseline "
              << show(baseline) << ")\n";
  }

  // The pids `tp-space ps SPACE --json` lists as running (pid -> slot).
  std::map<long, long> running(const std::string& space) const {
    std::map<long, long> pids;
    const auto table = ps(space);
    const Json* programs = table ? table->find("programs") : nullptr;
    if (programs == nullptr || !programs->is_array()) {
      ADD_FAILURE() << "tp-space ps " << space << " --json has no \"programs\" array";
      return pids;
    }
    for (const auto& entry : programs->items) {
      const Json* pid = entry.find("pid");
      const Json* slot = entry.find("slot");
      const Json* state = entry.find("state");
      if (pid && pid->integer() && slot && slot->integer() && state && state->is_string() &&
          state->text == "running")
        pids[static_cast<long>(*pid->integer())] = static_cast<long>(*slot->integer());
    }
    return pids;
  }

  // Launches pong into `space`; waits for "ready PID" and returns the pid (-1 on failure).
  pid_t start_pong(std::vector<Child>& children, const std::string& space) {
    Command command = this->command(launch_in(space, {program("pong")}));
    command.timeout = 600s;
    children.emplace_back(command);
    if (!children.back().started() || !children.back().wait_for_output("\n", 120s))
      return -1;
    return pong_pid(children.back().out());
  }
};

// --- 1,000 programs alive at once -------------------------------------------------------------

TEST_F(Load, ThousandProgramsAliveAtOnceInOneSpace) {
  long count = 1000;
  if (const char* value = std::getenv("TP_IT_ALIVE"))
    count = std::atol(value);
  ASSERT_GT(count, 0);
  // Each launcher costs this test 4 descriptors (3 pipes and a pidfd).
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  const rlim_t needed = static_cast<rlim_t>(count) * 4 + 256;
  if (files.rlim_max < needed)
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << files.rlim_max << " < " << needed
                 << " descriptors for " << count << " launchers";
  files.rlim_cur = std::max(files.rlim_cur, needed);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);

  pid_t host = -1;
  {
    // The host starts under the usual soft limit of 1024, as from a login shell: it holds
    // about four descriptors per program, so it must raise its own limit.
    SoftLimit usual(RLIMIT_NOFILE, 1024);
    host = start_space("big", {"--slots", "1024", "--slot-size", "16G"});
  }
  ASSERT_GT(host, 0);
  {
    const Result first = run(launch_in("big", {program("hello")}));
    ASSERT_TRUE(exited_with(first, 0) && first.out == "hello, world\n") << describe(first);
  }
  HostMetrics baseline = stable_metrics(host);

  // Two rounds of `count` programs at once. The first grows the host's heap for that many
  // records (measured: +4 MB of VmRSS that glibc keeps, and no more over four rounds):
  // the RSS baseline is taken after it. The maps count may be up to 4 above the baseline
  // for the same reason (the host's break is fenced, so glibc grows its heap in mmap'd
  // regions, which stay: measured +1); a program's leftovers would be ~36 mappings each.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto started_at = Clock::now();
    std::vector<Child> children;
    children.reserve(static_cast<size_t>(count));
    std::vector<pid_t> pids;
    constexpr long kWave = 50;  // launched together, then waited for
    for (long first = 0; first < count; first += kWave) {
      const long last = std::min(count, first + kWave);
      for (long i = first; i < last; ++i) {
        Command command = this->command(launch_in("big", {program("pong")}));
        command.timeout = 900s;
        children.emplace_back(command);
        ASSERT_TRUE(children.back().started());
      }
      for (long i = first; i < last; ++i) {
        ASSERT_TRUE(children[static_cast<size_t>(i)].wait_for_output("\n", 120s))
            << "program " << i << " did not start";
        const pid_t pid = pong_pid(children[static_cast<size_t>(i)].out());
        ASSERT_GT(pid, 0) << children[static_cast<size_t>(i)].out();
        pids.push_back(pid);
      }
    }
    const double launch_seconds =
        std::chrono::duration<double>(Clock::now() - started_at).count();
    std::cout << count << " programs started in " << launch_seconds
              << " s; host with all alive: " << show(metrics(host)) << "\n";

    // All listed, each in its own slot.
    const auto listed = running("big");
    EXPECT_EQ(listed.size(), static_cast<size_t>(count));
    std::set<long> slots;
    for (const pid_t pid : pids) {
      const auto entry = listed.find(pid);
      EXPECT_NE(entry, listed.end()) << "pid " << pid << " is not in tp-space ps --json";
      if (entry != listed.end())
        slots.insert(entry->second);
    }
    EXPECT_EQ(slots.size(), static_cast<size_t>(count)) << "two programs share a slot";

    // Each responds: SIGUSR1 to its tp-run is forwarded, and the program answers "pong".
    for (auto& child : children)
      ASSERT_TRUE(child.signal(SIGUSR1)) << "a launcher ended early: " << describe(child.finish());
    for (size_t i = 0; i < children.size(); ++i)
      ASSERT_TRUE(children[i].wait_for_output("pong\n", 120s))
          << "program " << i << " did not answer";

    // Stopped through their launchers: each exits 0, and the host is back where it was.
    for (auto& child : children)
      ASSERT_TRUE(child.signal(SIGTERM));
    const auto results = finish_all(children);
    for (size_t i = 0; i < results.size(); ++i) {
      const std::string expected = "ready " + std::to_string(pids[i]) + "\npong\n";
      EXPECT_TRUE(exited_with(results[i], 0) && results[i].out == expected &&
                  results[i].err.empty())
          << "program " << i << ": " << describe(results[i]);
    }
    std::cout << "round " << round << " took "
              << std::chrono::duration<double>(Clock::now() - started_at).count() << " s\n";
    EXPECT_EQ(settle_to([&] { return static_cast<long>(running("big").size()); }, 0), 0)
        << "programs still listed after every launcher ended";
    if (round == 0) {
      // Exact for descriptors, mappings and threads; the RSS baseline is taken now.
      expect_back_at(host, baseline, 8192, "the first " + std::to_string(count) + " programs", 4);
      baseline.rss_kb = stable([&] { return status_kb(host, "VmRSS"); });
    } else {
      // All of the programs' memory went with their slots; 1 MiB for what the host's
      // allocator and its libraries' resident pages move by.
      expect_back_at(host, baseline, 1024, "another " + std::to_string(count) + " programs", 4);
    }
    ASSERT_FALSE(HasFatalFailure());
  }
  const Result after = run(launch_in("big", {program("hello")}));
  EXPECT_TRUE(exited_with(after, 0) && after.out == "hello, world\n") << describe(after);
}

// --- A soak: exits, crashes, kill -9 of programs and of launchers ----------------------------

TEST_F(Load, SoakOfExitsCrashesAndKillsLeavesTheHostAtBaseline) {
  long rounds = 100;
  if (const char* value = std::getenv("TP_IT_SOAK_ROUNDS"))
    rounds = std::atol(value);
  ASSERT_GT(rounds, 0);
  SoftLimit no_cores(RLIMIT_CORE, 0);  // a crashing threadproc would dump the whole space
  const pid_t host = start_space("soak", {"--slots", "32"});
  ASSERT_GT(host, 0);
  const Result threads_native = run({program("threads4")});
  ASSERT_TRUE(exited_with(threads_native, 0)) << describe(threads_native);

  enum class Kind { Exit, Hello, Threads, Segv, NullDeref, Abort, KillProgram, KillLauncher, Term };
  const std::vector<Kind> mix{Kind::Exit,     Kind::Hello,       Kind::Threads,
                              Kind::Segv,     Kind::NullDeref,   Kind::Abort,
                              Kind::KillProgram, Kind::KillLauncher, Kind::Term};
  std::map<Kind, long> done;
  auto one_round = [&](long round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Child> children;
    children.reserve(mix.size());
    const int code = static_cast<int>((round % 250 + 250) % 250) + 1;  // 1..250
    for (const Kind kind : mix) {
      std::vector<std::string> argv;
      switch (kind) {
        case Kind::Exit: argv = {program("exit_code"), std::to_string(code)}; break;
        case Kind::Hello: argv = {program("hello")}; break;
        case Kind::Threads: argv = {program("threads4")}; break;
        case Kind::Segv: argv = {program("raise_signal"), "SEGV"}; break;
        case Kind::NullDeref: argv = {program("raise_signal"), "NULLDEREF"}; break;
        case Kind::Abort: argv = {program("raise_signal"), "ABRT"}; break;
        default: argv = {program("pong")}; break;
      }
      Command command = this->command(launch_in("soak", argv));
      command.timeout = 120s;
      children.emplace_back(command);
      ASSERT_TRUE(children.back().started());
    }
    // The pongs: kill -9 the program, kill -9 its launcher, or SIGTERM its launcher.
    for (size_t i = 0; i < mix.size(); ++i) {
      if (mix[i] != Kind::KillProgram && mix[i] != Kind::KillLauncher && mix[i] != Kind::Term)
        continue;
      ASSERT_TRUE(children[i].wait_for_output("\n"));
      const pid_t pid = pong_pid(children[i].out());
      ASSERT_GT(pid, 0) << children[i].out();
      const int pidfd = open_pidfd(pid);
      ASSERT_GE(pidfd, 0) << "pong " << pid << " already gone";
      if (mix[i] == Kind::KillProgram)
        EXPECT_EQ(kill(pid, SIGKILL), 0);
      else
        EXPECT_TRUE(children[i].signal(mix[i] == Kind::Term ? SIGTERM : SIGKILL));
      EXPECT_TRUE(wait_until_gone(pidfd, 5s))
          << "program " << pid << " still there 5 s later (state " << process_state(pid) << ")";
      close(pidfd);
    }
    const auto results = finish_all(children);
    for (size_t i = 0; i < mix.size(); ++i) {
      const Result& r = results[i];
      switch (mix[i]) {
        case Kind::Exit: EXPECT_TRUE(exited_with(r, code)) << describe(r); break;
        case Kind::Hello:
          EXPECT_TRUE(exited_with(r, 0) && r.out == "hello, world\n") << describe(r);
          break;
        case Kind::Threads:
          EXPECT_TRUE(exited_with(r, 0) && r.out == threads_native.out) << describe(r);
          break;
        case Kind::Segv:
        case Kind::NullDeref: EXPECT_TRUE(killed_by(r, SIGSEGV)) << describe(r); break;
        case Kind::Abort: EXPECT_TRUE(killed_by(r, SIGABRT)) << describe(r); break;
        case Kind::KillProgram:
        case Kind::KillLauncher: EXPECT_TRUE(killed_by(r, SIGKILL)) << describe(r); break;
        case Kind::Term: EXPECT_TRUE(exited_with(r, 0)) << describe(r); break;
      }
      // Only the program speaks: a crash or a kill adds nothing of tp-run's own.
      if (mix[i] != Kind::Threads && mix[i] != Kind::Hello) {
        EXPECT_EQ(r.err, "") << describe(r);
      }
      ++done[mix[i]];
    }
  };

  // Two rounds first: whatever the host sets up once (supervisor threads, buffers) is there
  // before the baseline.
  for (long round = 0; round < 2; ++round) {
    one_round(-1 - round);
    ASSERT_FALSE(HasFatalFailure());
  }
  const HostMetrics baseline = stable_metrics(host);
  const auto started_at = Clock::now();
  for (long round = 0; round < rounds; ++round) {
    one_round(round);
    ASSERT_FALSE(HasFatalFailure());
  }
  std::cout << rounds << " soak rounds of " << mix.size() << " programs in "
            << std::chrono::duration<double>(Clock::now() - started_at).count() << " s\n";
  EXPECT_EQ(settle_to([&] { return static_cast<long>(running("soak").size()); }, 0), 0);
  // RSS within 1 MiB: the programs' pages go with their slots (an unreclaimed slot would
  // also show in the exact maps count); the host's heap (launch records, supervisor
  // interval maps, protocol buffers) is freed to glibc arenas, which keep some pages
  // resident, and which pages of the host's libraries are resident varies. Both move by
  // tens or hundreds of kB, not with the number of rounds.
  expect_back_at(host, baseline, 1024, std::to_string(rounds) + " soak rounds");
  EXPECT_FALSE(process_state(host).empty()) << "the host is gone";
}

// --- A full space -----------------------------------------------------------------------------

TEST_F(Load, FullSpaceRefusesALaunchAndServesOnceASlotIsFree) {
  const pid_t host = start_space("full", {"--slots", "2"});
  ASSERT_GT(host, 0);
  std::vector<Child> pongs;
  pongs.reserve(2);
  ASSERT_GT(start_pong(pongs, "full"), 0);
  ASSERT_GT(start_pong(pongs, "full"), 0);

  for (int attempt = 0; attempt < 3; ++attempt) {
    const Result refused = run(launch_in("full", {program("hello")}));
    EXPECT_TRUE(exited_with(refused, 125)) << describe(refused);
    EXPECT_EQ(refused.out, "");
    EXPECT_EQ(refused.err, "tp-run: space full is full (2 slots)\n");
  }
  EXPECT_EQ(running("full").size(), 2u);
  const std::string log = read_file(runtime_dir_ + "/full.log");
  EXPECT_NE(log.find("refused: space full is full (2 slots)"), std::string::npos) << log;

  ASSERT_TRUE(pongs[0].signal(SIGTERM));
  EXPECT_TRUE(exited_with(pongs[0].finish(), 0));
  const Result served = run(launch_in("full", {program("hello")}));
  EXPECT_TRUE(exited_with(served, 0) && served.out == "hello, world\n") << describe(served);
  ASSERT_TRUE(pongs[1].signal(SIGTERM));
  EXPECT_TRUE(exited_with(pongs[1].finish(), 0));
}

// --- Crashes and kills next to a running neighbour ---------------------------------------------
// Space.CrashingProgramLeavesItsNeighbourRunning covers SEGV, a null write and abort with
// the neighbour still alive. Here: more signals, kill -9 of the program and of its launcher,
// and after each the neighbour still answers, ps lists only it, the host holds what it held,
// and the slot came back (a two-slot space would be full otherwise).

TEST_F(Load, EveryWayAProgramDiesLeavesItsNeighbourAndTheHostUntouched) {
  SoftLimit no_cores(RLIMIT_CORE, 0);  // a crashing threadproc would dump the whole space
  const pid_t host = start_space("faults", {"--slots", "2"});
  ASSERT_GT(host, 0);
  std::vector<Child> neighbour;
  neighbour.reserve(1);
  const pid_t neighbour_pid = start_pong(neighbour, "faults");
  ASSERT_GT(neighbour_pid, 0);
  const long neighbour_slot = running("faults").at(neighbour_pid);
  {
    const Result warm = run(launch_in("faults", {program("hello")}));
    ASSERT_TRUE(exited_with(warm, 0)) << describe(warm);
  }
  const HostMetrics baseline = stable_metrics(host);
  size_t pongs = 0;

  struct Fault {
    std::string name;
    std::vector<std::string> argv;  // empty: a pong, killed from outside
    int signal;
    bool kill_launcher = false;
  };
  const std::vector<Fault> faults{
      {"raise SIGSEGV", {program("raise_signal"), "SEGV"}, SIGSEGV},
      {"null pointer write", {program("raise_signal"), "NULLDEREF"}, SIGSEGV},
      {"abort", {program("raise_signal"), "ABRT"}, SIGABRT},
      {"raise SIGBUS", {program("raise_signal"), "BUS"}, SIGBUS},
      {"raise SIGFPE", {program("raise_signal"), "FPE"}, SIGFPE},
      {"raise SIGILL", {program("raise_signal"), "ILL"}, SIGILL},
      {"raise SIGKILL", {program("raise_signal"), "KILL"}, SIGKILL},
      {"kill -9 of the program", {}, SIGKILL},
      {"kill -9 of its launcher", {}, SIGKILL, true},
  };
  for (const Fault& fault : faults) {
    SCOPED_TRACE(fault.name);
    Result result;
    if (!fault.argv.empty()) {
      result = run(launch_in("faults", fault.argv));
    } else {
      std::vector<Child> victim;
      victim.reserve(1);
      const pid_t pid = start_pong(victim, "faults");
      ASSERT_GT(pid, 0);
      const int pidfd = open_pidfd(pid);
      ASSERT_GE(pidfd, 0);
      if (fault.kill_launcher)
        ASSERT_TRUE(victim[0].signal(SIGKILL));
      else
        ASSERT_EQ(kill(pid, SIGKILL), 0);
      EXPECT_TRUE(wait_until_gone(pidfd, 1s)) << "program " << pid << " outlived the kill by 1 s";
      close(pidfd);
      result = victim[0].finish();
    }
    // The launcher dies the same way (after its program, for kill -9 of the launcher).
    EXPECT_TRUE(killed_by(result, fault.signal))
        << "expected the launcher killed by " << signal_name(fault.signal) << ": "
        << describe(result);
    EXPECT_EQ(result.err, "");

    // Only the neighbour is left, in its slot; it answers; the host is as it was.
    const auto left = settle_until([&] { return static_cast<long>(running("faults").size()); },
                                   [](long n) { return n == 1; });
    EXPECT_EQ(left, 1) << "the dead program is still listed by tp-space ps";
    const auto listed = running("faults");
    EXPECT_TRUE(listed.count(neighbour_pid) == 1 && listed.at(neighbour_pid) == neighbour_slot)
        << "the neighbour is not listed in its slot";
    ASSERT_TRUE(neighbour[0].signal(SIGUSR1)) << "the neighbour's launcher is gone";
    ++pongs;
    std::string expected = "ready " + std::to_string(neighbour_pid) + "\n";
    for (size_t i = 0; i < pongs; ++i)
      expected += "pong\n";
    ASSERT_TRUE(neighbour[0].wait_for_output(expected)) << "the neighbour did not answer";
    EXPECT_FALSE(process_state(host).empty()) << "the host is gone";
    expect_back_at(host, baseline, 1024, fault.name);
    // The slot came back: with two slots, this launch needs it.
    const Result next = run(launch_in("faults", {program("hello")}));
    EXPECT_TRUE(exited_with(next, 0) && next.out == "hello, world\n") << describe(next);
  }
  ASSERT_TRUE(neighbour[0].signal(SIGTERM));
  EXPECT_TRUE(exited_with(neighbour[0].finish(), 0));
}

}  // namespace
}  // namespace tpit
