// Debugging and readable spaces: `tp-space debug` runs gdb on one program of a space with its
// own symbols (the program's libraries, threads, a program stopped at a crash), the gdb
// extension keeps software breakpoints out of code the whole space shares, and `tp-space ps`
// and `tp-space log` show what the host knows. The gdb tests skip (saying so) only where gdb
// is not installed. Everything here needs a shared space: in native mode these tests skip.
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>

#include "fixture.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

namespace tpit {
namespace {


size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

// Backtrace frames that gdb could place in no object at all ("#3  0x... in ?? ()"). A frame in
// a library without symbols for that function ("in ?? () from /lib/.../libc.so.6", when the
// system's debug symbols are not installed) is placed, and does not count.
size_t unknown_frames(const std::string& text) {
  static const std::regex unknown(R"(\n#\d+ +(0x[0-9a-f]+ in )?\?\? \(\)\n)");
  return size_t(std::distance(std::sregex_iterator(text.begin(), text.end(), unknown), std::sregex_iterator()));
}

// The state letter of every task of `pid` ("R", "S", "T"...), from /proc/PID/task/*/stat.
std::vector<std::string> task_states(pid_t pid) {
  std::vector<std::string> states;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr)
    return states;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    const std::string stat = read_file(dir + "/" + e->d_name + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size())
      states.push_back(stat.substr(paren + 2, 1));
  }
  closedir(d);
  return states;
}

// Waits (10 s at most) until `pid` has `tasks` tasks, all in state `state`.
bool settle_tasks(pid_t pid, size_t tasks, const std::string& state) {
  const long done = settle_until(
      [&] {
        const auto states = task_states(pid);
        return long(states.size() == tasks &&
                    std::all_of(states.begin(), states.end(), [&](const std::string& s) { return s == state; }));
      },
      [](long v) { return v == 1; });
  return done == 1;
}

// gdb is the machine's: the tests that run it skip, saying so, only where it is missing.
#define TP_REQUIRE_GDB()                                                                 \
  do {                                                                                   \
    if (!have_gdb())                                                                     \
      GTEST_SKIP() << "gdb is not installed (not found in PATH): nothing to debug with"; \
  } while (0)

// A crashing threadproc would dump the memory of the whole space: no core files.
class NoCoreDumps {
 public:
  NoCoreDumps() {
    getrlimit(RLIMIT_CORE, &saved_);
    rlimit none = saved_;
    none.rlim_cur = 0;
    setrlimit(RLIMIT_CORE, &none);
  }
  ~NoCoreDumps() { setrlimit(RLIMIT_CORE, &saved_); }

 private:
  rlimit saved_{};
};

// Every "0x..." at the start of a line of `text` that begins with `prefix` (after spaces).
std::vector<uint64_t> addresses_after(const std::string& text, const std::string& prefix) {
  std::vector<uint64_t> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line.compare(start, prefix.size(), prefix) != 0)
      continue;
    const size_t at = line.find("0x", start + prefix.size());
    if (at != std::string::npos)
      out.push_back(std::stoull(line.substr(at), nullptr, 16));
  }
  return out;
}

class Debug : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
    // gdb must not ask a debuginfod server for the system's libraries in the middle of a test.
    std::erase_if(env_, [](const std::string& e) { return e.rfind("DEBUGINFOD_URLS=", 0) == 0; });
  }

  bool have_gdb() const { return find_in_path("gdb", env_).has_value(); }

  // One program started with `tp-run --space SPACE`: its launcher, pid and the line number
  // it printed.
  struct Started {
    std::optional<Child> launcher;
    pid_t pid = -1;
    int line = 0;
  };

  Started start(const std::string& space, const std::vector<std::string>& argv, const std::string& pid_file,
                bool named = true) {
    Started s;
    s.launcher.emplace(command(named ? launch_in(space, argv) : launch(argv)));
    if (s.launcher->started())
      s.pid = wait_for_pid_file(pid_file, *s.launcher);
    return s;
  }

  // debug_target PIDFILE MODE in `space` (private space if `space` is empty).
  Started start_target(const std::string& space, const std::string& mode, const std::string& tag = "") {
    const std::string pid_file = work_dir_ + "/" + mode + tag + ".pid";
    Started s = start(space, {program("debug_target"), pid_file, mode}, pid_file, !space.empty());
    EXPECT_GT(s.pid, 0) << "debug_target " << mode << " did not start";
    if (s.pid > 0 && s.launcher->wait_for_output("\n")) {
      const std::string& out = s.launcher->out();
      if (out.rfind("line ", 0) == 0)
        s.line = std::atoi(out.c_str() + 5);
    }
    EXPECT_GT(s.line, 0) << "debug_target " << mode << " printed no line number";
    return s;
  }

  // Ends a program started by start() and its launcher.
  void stop(Started& s) {
    if (s.pid > 0)
      kill(s.pid, SIGKILL);
    if (s.launcher)
      s.launcher->finish();
  }

  // `tp-space debug ARGS... -- -batch -nx GDB_ARGS...`.
  Result debug(const std::vector<std::string>& target, const std::vector<std::string>& gdb_args) const {
    std::vector<std::string> argv{tp_space_path(), "debug"};
    argv.insert(argv.end(), target.begin(), target.end());
    argv.insert(argv.end(), {"--", "-batch", "-nx"});
    argv.insert(argv.end(), gdb_args.begin(), gdb_args.end());
    Command c = command(argv);
    c.timeout = 120s;
    return tpit::run(c);
  }

  static std::vector<std::string> ex(const std::vector<std::string>& commands) {
    std::vector<std::string> out;
    for (const auto& c : commands) {
      out.push_back("-ex");
      out.push_back(c);
    }
    return out;
  }

  std::string extension_path() const {
    const std::string tools = tp_space_path().substr(0, tp_space_path().rfind('/'));
    return tools + "/../share/threadprocs/gdb/threadprocs_gdb.py";
  }

  std::optional<Json> entry_of(const std::string& space, pid_t pid) const {
    const auto listed = ps(space);
    const Json* programs = listed ? listed->find("programs") : nullptr;
    if (programs == nullptr || !programs->is_array())
      return std::nullopt;
    for (const auto& e : programs->items)
      if (const Json* p = e.find("pid"); p != nullptr && p->integer() == pid)
        return e;
    return std::nullopt;
  }

  std::string log_of(const std::string& space) const { return read_file(runtime_dir_ + "/" + space + ".log"); }
};

// ---- tp-space debug -------------------------------------------------------------------

TEST_F(Debug, BacktraceNamesTheFunctionAndItsSourceLine) {
  TP_REQUIRE_GDB();
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  ASSERT_TRUE(settle_tasks(target.pid, 1, "S")) << "debug_target never waited in pause()";
  const std::string where = "debug_target.c:" + std::to_string(target.line);

  const Result by_pid = debug({std::to_string(target.pid)}, ex({"bt"}));
  EXPECT_TRUE(exited_with(by_pid, 0)) << describe(by_pid);
  EXPECT_NE(by_pid.out.find("threadprocs: attached to pid " + std::to_string(target.pid) + " (debug_target)"),
            std::string::npos)
      << describe(by_pid);
  EXPECT_NE(by_pid.out.find("tp_debug_wait_here () at "), std::string::npos) << describe(by_pid);
  EXPECT_NE(by_pid.out.find(where), std::string::npos) << "no frame at " << where << ": " << describe(by_pid);
  EXPECT_NE(by_pid.out.find("in main ("), std::string::npos) << describe(by_pid);
  EXPECT_EQ(unknown_frames(by_pid.out), 0u) << "frames without symbols: " << describe(by_pid);

  // The same program named by its space and slot.
  const auto entry = entry_of("dbg", target.pid);
  ASSERT_TRUE(entry.has_value());
  const auto slot = entry->find("slot")->integer();
  ASSERT_TRUE(slot.has_value());
  const Result by_slot = debug({"dbg", std::to_string(*slot)}, ex({"bt"}));
  EXPECT_TRUE(exited_with(by_slot, 0)) << describe(by_slot);
  EXPECT_NE(by_slot.out.find(where), std::string::npos) << describe(by_slot);
  EXPECT_NE(by_slot.out.find("space dbg, slot " + std::to_string(*slot)), std::string::npos) << describe(by_slot);

  // gdb follows the program's own libraries (all in its slot), not the host's, and its
  // library event breakpoint lies in the program's own ld.so.
  const auto base = entry->find("slot_base")->integer();
  const auto size = ps("dbg")->find("slot_size")->integer();
  ASSERT_TRUE(base && size);
  const Result libs = debug({std::to_string(target.pid)}, ex({"info sharedlibrary", "maint info breakpoints"}));
  EXPECT_TRUE(exited_with(libs, 0)) << describe(libs);
  const std::vector<uint64_t> from = addresses_after(libs.out, "0x");
  const std::vector<uint64_t> events = addresses_after(libs.out, "-");
  EXPECT_NE(libs.out.find("/libc.so.6\n"), std::string::npos) << describe(libs);
  EXPECT_GE(from.size(), 3u) << "libc, ld.so, the allocator: " << describe(libs);
  EXPECT_NE(libs.out.find("shlib events"), std::string::npos) << describe(libs);
  for (uint64_t a : from)
    EXPECT_TRUE(a >= uint64_t(*base) && a < uint64_t(*base + *size)) << std::hex << a << " outside the slot";
  for (uint64_t a : events)
    EXPECT_TRUE(a >= uint64_t(*base) && a < uint64_t(*base + *size))
        << "gdb's internal breakpoint at " << std::hex << a << " lies outside the program's slot: "
        << describe(libs);

  // gdb left it as it was: still waiting, still listed.
  EXPECT_TRUE(settle_tasks(target.pid, 1, "S"));
  EXPECT_TRUE(entry_of("dbg", target.pid).has_value());
  stop(target);
}

TEST_F(Debug, ThreadApplyAllBtShowsEveryThreadOfTheProgram) {
  TP_REQUIRE_GDB();
  Started target = start_target("dbg", "threads");
  ASSERT_GT(target.pid, 0);
  ASSERT_TRUE(settle_tasks(target.pid, 5, "S")) << "the 4 workers and main never all waited";

  const Result r = debug({std::to_string(target.pid)},
                         ex({"info threads", "thread apply all bt", "thread apply all print tp_debug_tls"}));
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("; 5 threads;"), std::string::npos) << describe(r);
  // One backtrace per thread, each worker waiting at the same line of tp_debug_worker.
  EXPECT_EQ(count(r.out, "\nThread "), 10u) << "5 threads, each under bt and print: " << describe(r);
  EXPECT_EQ(count(r.out, " in tp_debug_worker (arg=0x0) at "), 4u) << describe(r);
  EXPECT_EQ(count(r.out, "debug_target.c:" + std::to_string(target.line) + "\n"), 4u) << describe(r);
  EXPECT_EQ(count(r.out, " in tp_debug_join ("), 1u) << describe(r);
  EXPECT_EQ(unknown_frames(r.out), 0u) << "frames without symbols: " << describe(r);
  // Thread-local storage, per thread: the workers set theirs to 8.
  EXPECT_EQ(count(r.out, " = 8\n"), 4u) << describe(r);
  EXPECT_EQ(count(r.out, " = 7\n"), 1u) << describe(r);
  stop(target);
}

TEST_F(Debug, LibrariesLoadedLaterAreFollowed) {
  TP_REQUIRE_GDB();
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  ASSERT_TRUE(settle_tasks(target.pid, 1, "S"));
  // A breakpoint pending on a library the program has not loaded; the program loads it.
  const Result r = debug({std::to_string(target.pid)},
                         ex({"set breakpoint pending on", "break cbrtl", "call (void *) dlopen(\"libm.so.6\", 2)",
                             "info breakpoints", "info sharedlibrary"}));
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("Breakpoint 1 (cbrtl) pending."), std::string::npos) << describe(r);
  const std::regex resolved(R"(\n1 +breakpoint +keep y +0x[0-9a-f]+ (<cbrtl|in _*cbrtl))");
  EXPECT_TRUE(std::regex_search(r.out, resolved)) << "the pending breakpoint was not resolved: " << describe(r);
  EXPECT_NE(r.out.find("/libm.so.6\n"), std::string::npos) << describe(r);
  EXPECT_EQ(r.out.find("threadprocs: breakpoint"), std::string::npos) << "the program's own code: " << describe(r);
  stop(target);
}

TEST_F(Debug, StaticAndFixedAddressPrograms) {
  TP_REQUIRE_GDB();
  for (const char* name : {"sleeper_static", "sleeper_nopie"}) {
    SCOPED_TRACE(name);
    const std::string pid_file = work_dir_ + "/" + name + ".pid";
    Started target = start("dbg", {program(name), pid_file}, pid_file);
    ASSERT_GT(target.pid, 0);
    ASSERT_TRUE(settle_tasks(target.pid, 1, "S"));
    const Result r = debug({std::to_string(target.pid)}, ex({"bt", "break main", "info threadprocs"}));
    EXPECT_TRUE(exited_with(r, 0)) << describe(r);
    EXPECT_NE(r.out.find(" in main (argc="), std::string::npos) << describe(r);
    EXPECT_NE(r.out.find("sleeper.c:"), std::string::npos) << describe(r);
    // A fixed-address image is the program's own code too: software breakpoints are fine there.
    EXPECT_EQ(r.out.find("threadprocs: breakpoint"), std::string::npos) << describe(r);
    if (std::string(name) == "sleeper_nopie") {
      EXPECT_NE(r.out.find("  fixed-address image\n"), std::string::npos) << describe(r);
    }
    stop(target);
  }
}

TEST_F(Debug, ProgramStoppedAtACrash) {
  TP_REQUIRE_GDB();
  NoCoreDumps no_cores;
  Started target = start_target("dbg", "crash");
  ASSERT_GT(target.pid, 0);
  // Its SIGSEGV handler stops it, the way a "wait for a debugger" crash handler does.
  ASSERT_TRUE(settle_tasks(target.pid, 1, "T")) << "debug_target did not stop at its crash";

  const Result r = debug({std::to_string(target.pid)}, ex({"bt"}));
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find(" in stop_on_crash (sig=11) at "), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("<signal handler called>"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find(" in tp_debug_crash_here (where=0x0) at "), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("debug_target.c:" + std::to_string(target.line) + "\n"), std::string::npos)
      << "the faulting line: " << describe(r);
  EXPECT_EQ(unknown_frames(r.out), 0u) << "frames without symbols: " << describe(r);

  // Detached, it is still stopped at its crash; continued, it dies of the SIGSEGV.
  EXPECT_TRUE(settle_tasks(target.pid, 1, "T"));
  ASSERT_EQ(kill(target.pid, SIGCONT), 0);
  const Result ended = target.launcher->finish();
  EXPECT_TRUE(WIFSIGNALED(ended.status) && WTERMSIG(ended.status) == SIGSEGV) << describe(ended);
}

TEST_F(Debug, SharedCodeBreakpointBecomesHardwareAndTheNeighbourLives) {
  TP_REQUIRE_GDB();
  // Both programs call clock_gettime() in the vDSO, one page every program of the space runs.
  Started neighbour = start_target("dbg", "clock", "-neighbour");
  Started target = start_target("dbg", "clock");
  ASSERT_GT(neighbour.pid, 0);
  ASSERT_GT(target.pid, 0);

  const Result r = debug({std::to_string(target.pid)},
                         ex({"break __vdso_clock_gettime", "break tp_debug_clock_loop", "continue", "bt",
                             "info breakpoints"}));
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("threadprocs: breakpoint 1.1 at 0x"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("lies in the vDSO"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("replaced by hardware breakpoint 2"), std::string::npos) << describe(r);
  // A breakpoint in the program's own code stays a software breakpoint, untouched.
  EXPECT_EQ(r.out.find("breakpoint 3.1 at"), std::string::npos) << describe(r);
  // The debugged program stops in the vDSO, called from its own code.
  EXPECT_NE(r.out.find("Breakpoint 2, "), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find(" in tp_debug_clock_loop () at "), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("debug_target.c:" + std::to_string(target.line) + "\n"), std::string::npos)
      << describe(r);
  const std::regex disabled(R"(\n1\.1 +n +0x)"), hardware(R"(\n2 +hw breakpoint +keep y)");
  EXPECT_TRUE(std::regex_search(r.out, disabled)) << "software location not disabled: " << describe(r);
  EXPECT_TRUE(std::regex_search(r.out, hardware)) << describe(r);

  // The neighbour ran the same vDSO code all along and was never trapped; after gdb
  // detached, the debugged program runs on too.
  usleep(200 * 1000);
  for (const Started* s : {&neighbour, &target}) {
    const std::string state = process_state(s->pid);
    EXPECT_TRUE(state == "S" || state == "R") << "pid " << s->pid << " is in state '" << state << "'";
    EXPECT_TRUE(entry_of("dbg", s->pid).has_value()) << "pid " << s->pid << " left the space";
  }
  EXPECT_EQ(log_of("dbg").find("(TRAP)"), std::string::npos) << log_of("dbg");
  stop(target);
  stop(neighbour);
}

TEST_F(Debug, SharedCodeBreakpointIsRefusedOnRequest) {
  TP_REQUIRE_GDB();
  Started neighbour = start_target("dbg", "wait", "-neighbour");
  Started target = start_target("dbg", "wait");
  ASSERT_GT(neighbour.pid, 0);
  ASSERT_GT(target.pid, 0);
  const auto other = entry_of("dbg", neighbour.pid);
  ASSERT_TRUE(other.has_value());
  const auto other_slot = other->find("slot")->integer();
  const auto other_base = other->find("slot_base")->integer();
  ASSERT_TRUE(other_slot && other_base) << "ps --json gives no slot/slot_base";
  std::ostringstream other_code;
  other_code << "*0x" << std::hex << (*other_base + (2 << 20));  // the neighbour's image

  const Result r = debug({std::to_string(target.pid)},
                         ex({"set threadprocs shared-breakpoints refuse", "break __vdso_clock_gettime",
                             "break " + other_code.str(), "break tp_debug_wait_here", "info breakpoints"}));
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("breakpoint 1.1 at 0x"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("lies in the vDSO"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("lies in slot " + std::to_string(*other_slot) + " (another program)"), std::string::npos)
      << describe(r);
  EXPECT_EQ(count(r.out, "SIGTRAP; refused (disabled)"), 2u) << describe(r);
  EXPECT_EQ(r.out.find("replaced by hardware"), std::string::npos) << "nothing converted: " << describe(r);
  const std::regex first(R"(\n1\.1 +n +0x)"), second(R"(\n2\.1 +n +0x)"),
      own(R"(\n3 +breakpoint +keep y +0x[0-9a-f]+ in tp_debug_wait_here at )");
  EXPECT_TRUE(std::regex_search(r.out, first)) << describe(r);
  EXPECT_TRUE(std::regex_search(r.out, second)) << describe(r);
  EXPECT_TRUE(std::regex_search(r.out, own)) << "the program's own breakpoint: " << describe(r);
  stop(target);
  stop(neighbour);
}

TEST_F(Debug, DprintfInSharedCodeIsRefused) {
  TP_REQUIRE_GDB();
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  // gdb does not show dprintf to Python: the extension finds it before the next prompt, so
  // this runs gdb on commands from stdin, with prompts, instead of -batch.
  Command c = command({tp_space_path(), "debug", std::to_string(target.pid), "--", "-nx"});
  c.stdin_data = "dprintf __vdso_clock_gettime,\"tick\\n\"\ninfo breakpoints\n";
  c.timeout = 120s;
  const Result r = tpit::run(c);
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("threadprocs: dprintf 1 at 0x"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("lies in the vDSO"), std::string::npos) << describe(r);
  const std::regex disabled(R"(\n1 +dprintf +keep n +0x)");
  EXPECT_TRUE(std::regex_search(r.out, disabled)) << describe(r);
  stop(target);
}

TEST_F(Debug, ExtensionLoadedByHandFindsAPrivateSpaceProgram) {
  TP_REQUIRE_GDB();
  // tp-run without --space: no named space knows this program; the extension finds its slot.
  Started target = start_target("", "wait");
  ASSERT_GT(target.pid, 0);
  ASSERT_TRUE(settle_tasks(target.pid, 1, "S"));
  Command c = command({"gdb", "-batch", "-nx", "-ex", "source " + extension_path(), "-ex",
                       "tp-attach " + std::to_string(target.pid), "-ex", "bt", "-ex", "info threadprocs"});
  c.timeout = 120s;
  const Result r = tpit::run(c);
  EXPECT_TRUE(exited_with(r, 0)) << describe(r);
  EXPECT_NE(r.out.find("debug_target.c:" + std::to_string(target.line)), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find(" in tp_debug_wait_here () at "), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("/libc.so.6\n"), std::string::npos) << "the program's libc: " << describe(r);
  EXPECT_NE(r.out.find("[vdso]"), std::string::npos) << describe(r);

  // tp-space debug says where it looks, and the extension finds it all the same.
  const Result via_tool = debug({std::to_string(target.pid)}, ex({"bt"}));
  EXPECT_TRUE(exited_with(via_tool, 0)) << describe(via_tool);
  EXPECT_NE(via_tool.err.find("is not a program of a running named space"), std::string::npos)
      << describe(via_tool);
  EXPECT_NE(via_tool.out.find(" in tp_debug_wait_here () at "), std::string::npos) << describe(via_tool);
  stop(target);
}

TEST_F(Debug, CommandLineAndMistakes) {
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  const auto entry = entry_of("dbg", target.pid);
  ASSERT_TRUE(entry.has_value());

  // The gdb command it runs (no gdb needed to print it), with the machine's gdb.
  auto without_tp_gdb = [this](std::vector<std::string> args) {
    args.insert(args.begin(), tp_space_path());
    Command c = command(args);
    std::erase_if(c.env, [](const std::string& e) { return e.rfind("TP_GDB=", 0) == 0; });
    return c;
  };
  const Result printed =
      tpit::run(without_tp_gdb({"debug", "--print-command", std::to_string(target.pid), "--", "-batch"}));
  ASSERT_TRUE(exited_with(printed, 0)) << describe(printed);
  std::ostringstream attach;
  attach << "-ex 'tp-attach --space dbg --slot-base 0x" << std::hex << *entry->find("slot_base")->integer()
         << " --slot-size 0x" << *ps("dbg")->find("slot_size")->integer() << std::dec << " " << target.pid
         << "' -batch\n";
  EXPECT_EQ(printed.out.rfind("gdb -q -iex 'source /", 0), 0u) << printed.out;
  EXPECT_NE(printed.out.find("/share/threadprocs/gdb/threadprocs_gdb.py' " + attach.str()), std::string::npos)
      << printed.out;
  EXPECT_TRUE(exited_with(tp_space({"debug", "--print-command", "dbg", "0"}), 0));

  const Result no_slot = tp_space({"debug", "dbg", "63"});
  EXPECT_TRUE(exited_with(no_slot, 1)) << describe(no_slot);
  EXPECT_EQ(no_slot.err, "tp-space: debug: space dbg has no program in slot 63 (see tp-space ps dbg)\n");
  const Result not_pid = tp_space({"debug", "dbg"});
  EXPECT_TRUE(exited_with(not_pid, 1)) << describe(not_pid);
  EXPECT_NE(not_pid.err.find("dbg is not a pid"), std::string::npos) << describe(not_pid);
  const Result no_space = tp_space({"debug", "nosuch", "0"});
  EXPECT_TRUE(exited_with(no_space, 1)) << describe(no_space);
  const Result stray = tp_space({"ps", "--", "-batch"});
  EXPECT_TRUE(exited_with(stray, 1)) << describe(stray);

  // No gdb: a clear message, the shell's "not found" status.
  Command no_gdb = without_tp_gdb({"debug", std::to_string(target.pid)});
  no_gdb.env.push_back("TP_GDB=/nonexistent/gdb");
  const Result missing = tpit::run(no_gdb);
  EXPECT_TRUE(exited_with(missing, 127)) << describe(missing);
  EXPECT_NE(missing.err.find("/nonexistent/gdb not found: install gdb"), std::string::npos) << describe(missing);
  stop(target);
}

// ---- readable spaces ------------------------------------------------------------------

TEST_F(Debug, ProgramNameIsItsOwn) {
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  // comm (ps, top, gdb's thread names): the program's name, not the host's.
  EXPECT_EQ(read_file("/proc/" + std::to_string(target.pid) + "/comm"), "debug_target\n");
  stop(target);
}

TEST_F(Debug, RuntimeMappingsAreNamed) {
  // The kernel shows names of anonymous mappings only with CONFIG_ANON_VMA_NAME.
  void* probe = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  const int rc = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, reinterpret_cast<unsigned long>(probe), 4096UL,
                       reinterpret_cast<unsigned long>("tp-it:probe"));
  const int err = errno;
  munmap(probe, 4096);
  if (rc != 0 && err == EINVAL)
    GTEST_SKIP() << "this kernel has no CONFIG_ANON_VMA_NAME (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME) "
                    "returns EINVAL): the runtime's mapping names (tp:slotN:stack...) cannot show";
  ASSERT_EQ(rc, 0) << "prctl(PR_SET_VMA_ANON_NAME): " << strerror(err);

  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  const auto entry = entry_of("dbg", target.pid);
  ASSERT_TRUE(entry.has_value());
  const std::string slot = std::to_string(*entry->find("slot")->integer());
  const std::string maps = read_file("/proc/" + std::to_string(target.pid) + "/maps");
  EXPECT_NE(maps.find("[anon:tp:slot" + slot + ":stack]"), std::string::npos) << maps;
  EXPECT_NE(maps.find("[anon:tp:slot" + slot + ":plan]"), std::string::npos) << maps;
  EXPECT_NE(maps.find("[anon:tp:arena]"), std::string::npos) << maps;
  stop(target);
}

TEST_F(Debug, PsShowsStateMemoryUptimeAndSlotBase) {
  Started target = start_target("dbg", "wait");
  ASSERT_GT(target.pid, 0);
  usleep(100 * 1000);
  const auto listed = ps("dbg");
  ASSERT_TRUE(listed.has_value());
  const auto arena = listed->find("arena_base")->integer();
  const auto slot_size = listed->find("slot_size")->integer();
  ASSERT_TRUE(arena && slot_size) << "ps --json has no arena_base/slot_size";
  const auto entry = entry_of("dbg", target.pid);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->find("state")->text, "running");
  const auto slot = entry->find("slot")->integer();
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(entry->find("slot_base")->integer(), *arena + *slot * *slot_size);
  EXPECT_GE(entry->find("uptime_ms")->integer().value_or(-1), 100);
  EXPECT_GT(entry->find("mapped_bytes")->integer().value_or(0), 0);
  EXPECT_GT(entry->find("resident_bytes")->integer().value_or(0), 0);

  const Result table = tp_space({"ps", "dbg"});
  ASSERT_TRUE(exited_with(table, 0)) << describe(table);
  EXPECT_EQ(table.out.rfind("SPACE ", 0), 0u) << table.out;
  for (const char* column : {"SLOT", "PID", "STATE", "UPTIME", "MAPPED", "RSS", "COMMAND"})
    EXPECT_NE(table.out.find(column), std::string::npos) << column << " missing: " << table.out;
  EXPECT_NE(table.out.find(" running "), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("debug_target " + work_dir_ + "/wait.pid wait\n"), std::string::npos) << table.out;
  stop(target);
}

TEST_F(Debug, LogShowsLaunchesExitsReclaimsAndRefusals) {
  use_space("logged");
  ASSERT_TRUE(exited_with(tp_space({"start", "logged", "--slots", "1"}), 0));
  const Result hello = run(launch_in("logged", {program("hello")}));
  ASSERT_TRUE(exited_with(hello, 0)) << describe(hello);

  Started sleeper = start("logged", {program("sleeper"), work_dir_ + "/sleeper.pid"}, work_dir_ + "/sleeper.pid");
  ASSERT_GT(sleeper.pid, 0);
  const Result full = run(launch_in("logged", {program("hello")}));  // the only slot is taken
  EXPECT_TRUE(exited_with(full, 125)) << describe(full);
  const Result not_kept = tp_space({"release", "logged", "0"});
  EXPECT_TRUE(exited_with(not_kept, 1)) << describe(not_kept);
  ASSERT_EQ(kill(sleeper.pid, SIGTERM), 0);
  sleeper.launcher->finish();

  const std::string sleeper_what =
      program("sleeper") + " (pid " + std::to_string(sleeper.pid) + ", slot 0)";
  auto logged = [&](const std::string& line) { return log_of("logged").find(line) != std::string::npos; };
  ASSERT_EQ(settle_until([&] { return long(logged("reclaimed slot 0 of " + sleeper_what)); },
                         [](long v) { return v == 1; }),
            1)
      << log_of("logged");

  const Result shown = tp_space({"log", "logged"});
  ASSERT_TRUE(exited_with(shown, 0)) << describe(shown);
  EXPECT_EQ(shown.out, log_of("logged"));
  const std::string& log = shown.out;
  for (const std::string& line : std::vector<std::string>{
           std::string("space logged serving (pid "),
           "launched " + program("hello") + " as pid ",
           " exited with code 0\n",
           "launched " + program("sleeper") + " as pid " + std::to_string(sleeper.pid) + " in slot 0\n",
           "refused: space logged is full (1 slots) (launch of " + program("hello") + ")\n",
           "refused: slot 0 of space logged is not kept (release of slot 0)\n",
           sleeper_what + " killed by signal 15 (TERM)\n",
           "reclaimed slot 0 of " + sleeper_what + "\n",
       })
    EXPECT_NE(log.find(line), std::string::npos) << "no \"" << line << "\" in the log:\n" << log;
  // hello's own exit and reclaim, before the sleeper ran.
  EXPECT_EQ(count(log, "reclaimed slot 0 of "), 2u) << log;
  // Every line starts with a UTC timestamp.
  const std::regex stamped(R"(^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [^\n]+\n)+$)");
  EXPECT_TRUE(std::regex_match(log, stamped)) << log;

  const Result last = tp_space({"log", "logged", "-n", "1"});
  ASSERT_TRUE(exited_with(last, 0)) << describe(last);
  EXPECT_EQ(count(last.out, "\n"), 1u) << last.out;
  EXPECT_EQ(log.substr(log.size() - last.out.size()), last.out);
  EXPECT_EQ(tp_space({"log", "logged", "-n", "0"}).out, "");
  EXPECT_EQ(tp_space({"log", "logged", "-n", "1000"}).out, log);
}

TEST_F(Debug, LogFollowPrintsNewEvents) {
  use_space("followed");
  ASSERT_TRUE(exited_with(tp_space({"start", "followed"}), 0));
  Child follower(command({tp_space_path(), "log", "followed", "--follow"}));
  ASSERT_TRUE(follower.started());
  ASSERT_TRUE(follower.wait_for_output("space followed serving"));
  const Result hello = run(launch_in("followed", {program("hello")}));
  ASSERT_TRUE(exited_with(hello, 0)) << describe(hello);
  ASSERT_TRUE(follower.wait_for_output("reclaimed slot 0 of " + program("hello")));
  EXPECT_NE(follower.out().find("launched " + program("hello")), std::string::npos) << follower.out();
  follower.signal(SIGTERM);
  follower.finish();
}

TEST_F(Debug, LogOfASpaceThatNeverRan) {
  const Result r = tp_space({"log", "never"});
  EXPECT_TRUE(exited_with(r, 1)) << describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tp-space: space never has no log: " + runtime_dir_ +
                       "/never.log does not exist (no space never has run with this runtime directory)\n");
  const Result bad = tp_space({"log", "../etc"});
  EXPECT_TRUE(exited_with(bad, 1)) << describe(bad);
}

}  // namespace
}  // namespace tpit
