// tp-run as a stand-in for the program: what goes in (argv, env, cwd, stdin) and what comes
// out (stdout, stderr, exit code, death by signal) must be what a native run gives.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <elf.h>

#include <climits>
#include <cstdlib>
#include <random>

#include "fixture.h"

namespace tpit {
namespace {

class Launch : public TpTest {
 protected:
  // The program run directly: the reference every launched run is compared with.
  Result native(std::vector<std::string> argv) const { return run(std::move(argv)); }
  Result launched(const std::vector<std::string>& argv,
                  const std::vector<std::string>& options = {}) const {
    return run(launch(argv, options));
  }

  // Same status, byte-identical stdout and stderr.
  static void expect_same(const Result& reference, const Result& subject) {
    EXPECT_EQ(describe_status(subject.status), describe_status(reference.status));
    EXPECT_TRUE(subject.out == reference.out)
        << "stdout differs (" << subject.out.size() << " bytes vs " << reference.out.size()
        << " natively)\n--- launched ---\n" << describe(subject) << "\n--- native ---\n"
        << describe(reference);
    EXPECT_EQ(subject.err, reference.err);
  }
  static void expect_exit(const Result& result, int code) {
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == code)
        << "expected exit " << code << ", got " << describe(result);
  }
  static void expect_killed_by(const Result& result, int signal) {
    ASSERT_TRUE(WIFSIGNALED(result.status) && WTERMSIG(result.status) == signal)
        << "expected death by SIG" << sigabbrev_np(signal) << ", got " << describe(result);
    if (!native_mode()) {
      EXPECT_FALSE(WCOREDUMP(result.status)) << "tp-run must die without dumping core";
    }
    EXPECT_EQ(result.out, "");
  }
};

TEST_F(Launch, HelloStdoutIsByteIdenticalToNative) {
  const Result reference = native({program("hello")});
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out, "hello, world\n");
  const Result subject = launched({program("hello")});
  expect_same(reference, subject);
  EXPECT_EQ(subject.err, "") << "tp-run wrote to stderr without an error";
}

TEST_F(Launch, ExitCodeIsPassedThrough) {
  for (int code : {42, 0, 1, 125, 126, 127, 255}) {
    SCOPED_TRACE("exit_code " + std::to_string(code));
    const Result result = launched({program("exit_code"), std::to_string(code)});
    expect_exit(result, code);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "");
  }
}

TEST_F(Launch, RaisedSigsegvKillsLauncherWithSigsegv) {
  expect_killed_by(launched({program("raise_signal"), "SEGV"}), SIGSEGV);
}

TEST_F(Launch, NullPointerWriteKillsLauncherWithSigsegv) {
  expect_killed_by(launched({program("raise_signal"), "NULLDEREF"}), SIGSEGV);
}

TEST_F(Launch, AbortKillsLauncherWithSigabrt) {
  expect_killed_by(launched({program("raise_signal"), "ABRT"}), SIGABRT);
}

TEST_F(Launch, RaisedSigtermKillsLauncherWithSigterm) {
  expect_killed_by(launched({program("raise_signal"), "TERM"}), SIGTERM);
}

TEST_F(Launch, SigkillOfProgramKillsLauncherWithSigkill) {
  const std::string pid_file = work_dir_ + "/sleeper.pid";
  Child child(command(launch({program("sleeper"), pid_file})));
  ASSERT_TRUE(child.started());
  const pid_t pid = wait_for_pid_file(pid_file, child);
  ASSERT_GT(pid, 0);
  if (native_mode()) {
    EXPECT_EQ(pid, child.pid());
  } else {
    EXPECT_NE(pid, child.pid()) << "the program must have its own PID, not tp-run's";
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const Result result = child.finish();
  EXPECT_TRUE(WIFSIGNALED(result.status) && WTERMSIG(result.status) == SIGKILL)
      << describe(result);
}

TEST_F(Launch, OneMebibyteOfBinaryStdinRoundTrips) {
  std::mt19937_64 random(20240531);
  std::string data(1 << 20, '\0');
  for (auto& byte : data)
    byte = static_cast<char>(random() & 0xff);
  // Every byte value, NULs and newlines included, at least once.
  for (int value = 0; value < 256; ++value)
    data[static_cast<size_t>(value)] = static_cast<char>(value);

  Command command = this->command(launch({program("cat_stdin")}));
  command.stdin_data = data;
  const Result result = tpit::run(command);
  expect_exit(result, 0);
  ASSERT_EQ(result.out.size(), data.size());
  const auto mismatch = std::mismatch(data.begin(), data.end(), result.out.begin());
  EXPECT_TRUE(mismatch.first == data.end())
      << "first difference at byte " << (mismatch.first - data.begin());
  EXPECT_EQ(result.err, "");
}

TEST_F(Launch, EmptyStdinGivesEof) {
  const Result result = launched({program("cat_stdin")});
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "");
}

TEST_F(Launch, WorkingDirectoryIsTheCallers) {
  const std::string dir = work_dir_ + "/a dir with spaces \xc3\xbc";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  char resolved[PATH_MAX];
  ASSERT_NE(realpath(dir.c_str(), resolved), nullptr);

  Command reference_command = command({program("print_cwd")});
  reference_command.cwd = dir;
  const Result reference = tpit::run(reference_command);
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out, std::string(resolved) + "\n");

  Command subject_command = command(launch({program("print_cwd")}));
  subject_command.cwd = dir;
  expect_same(reference, tpit::run(subject_command));
}

TEST_F(Launch, SixtyFourKibibyteEnvironmentIsIdenticalToNative) {
  std::vector<std::string> env = env_;
  size_t bytes = 0;
  for (const auto& entry : env)
    bytes += entry.size() + 1;
  for (int i = 0; bytes < (64u << 10); ++i) {
    std::string entry = "TP_IT_BIG_" + std::to_string(i) + "=";
    entry.append(1000, static_cast<char>('a' + i % 26));
    bytes += entry.size() + 1;
    env.push_back(std::move(entry));
  }
  // Entries a careless copy would change: empty value, '=' and spaces in the value, UTF-8,
  // a duplicate name (both kept, in order), and one without '=' at all (execve allows it).
  env.push_back("TP_IT_EMPTY=");
  env.push_back("TP_IT_EQUALS=a=b==c d");
  env.push_back("TP_IT_UTF8=gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93");
  env.push_back("TP_IT_DUPLICATE=first");
  env.push_back("TP_IT_DUPLICATE=second");
  env.push_back("TP_IT_NO_EQUALS_SIGN");

  Command reference_command = command({program("print_env")});
  reference_command.env = env;
  const Result reference = tpit::run(reference_command);
  expect_exit(reference, 0);
  std::string expected;
  for (const auto& entry : env)
    expected += entry + "\n";
  ASSERT_EQ(reference.out, expected);
  ASSERT_GE(reference.out.size(), 64u << 10);

  Command subject_command = command(launch({program("print_env")}));
  subject_command.env = env;
  expect_same(reference, tpit::run(subject_command));
}

TEST_F(Launch, HundredThousandArgumentsMatchNative) {
  std::vector<std::string> argv{program("count_args")};
  for (int i = 0; i < 100'000; ++i)
    argv.push_back(i % 1000 == 0 ? std::string() : std::to_string(i));  // some empty ones
  const Result reference = native(argv);
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out.rfind("argc=100001\n", 0), 0u) << reference.out;
  expect_same(reference, launched(argv));
}

TEST_F(Launch, OptionLikeArgumentsAfterProgramBelongToIt) {
  const std::vector<std::string> argv{program("count_args"), "--space", "x", "-v",
                                      "--help", "--", "--version", "--slots", "3"};
  const Result reference = native(argv);
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out.rfind("argc=9\n", 0), 0u) << reference.out;
  expect_same(reference, launched(argv));  // tp-run -- PROGRAM ARGS...
  if (!native_mode()) {
    std::vector<std::string> without_separator{tp_run_path()};  // tp-run PROGRAM ARGS...
    without_separator.insert(without_separator.end(), argv.begin(), argv.end());
    expect_same(reference, run(without_separator));
  }
}

TEST_F(Launch, ProgramNameIsLookedUpInPath) {
  Command command = this->command(launch({"hello"}));
  std::erase_if(command.env, [](const std::string& e) { return e.rfind("PATH=", 0) == 0; });
  command.env.push_back("PATH=/nonexistent-dir:" + programs_dir() + ":/usr/bin:/bin");
  const Result result = tpit::run(command);
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "hello, world\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(Launch, RelativeProgramPathIsResolvedInCallersCwd) {
  Command command = this->command(launch({"./hello"}));
  command.cwd = programs_dir();
  const Result result = tpit::run(command);
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "hello, world\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(Launch, FourThreadsMatchNative) {
  const Result reference = native({program("threads4")});
  expect_exit(reference, 0);
  ASSERT_NE(reference.out.find("total: "), std::string::npos) << reference.out;
  expect_same(reference, launched({program("threads4")}));
}

TEST_F(Launch, StaticPieRuns) {
  const auto elf = read_elf(program("hello_static"));
  ASSERT_TRUE(elf.has_value()) << program("hello_static") << " is not a 64-bit ELF";
  ASSERT_EQ(elf->type, unsigned{ET_DYN}) << "hello_static must be a static-PIE (ET_DYN)";
  ASSERT_FALSE(elf->has_interp) << "hello_static must be static (no PT_INTERP)";
  const Result reference = native({program("hello_static")});
  ASSERT_EQ(reference.out, "hello, world\n");
  expect_same(reference, launched({program("hello_static")}));
}

TEST_F(Launch, RustProgramRuns) {
  if (!have_rust())
    GTEST_SKIP() << "rustc not found when the build was configured (set TP_RUSTC to a rustc "
                    "and reconfigure to build tests/programs/hello_rust.rs)";
  const std::vector<std::string> argv{program("hello_rust"), "one", "two"};
  const Result reference = native(argv);
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out,
            "hello from rust\nargs: 2 [one two]\nsquares: [1, 4, 9, 16, 25]\n");
  expect_same(reference, launched(argv));
}

TEST_F(Launch, ForkExecAndSystemWork) {
  const Result reference = native({program("fork_exec")});
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out, "from exec\nfrom system\nfork_exec: ok\n");
  expect_same(reference, launched({program("fork_exec")}));
}

TEST_F(Launch, ShebangScriptRuns) {
  const std::vector<std::string> argv{program("hello_script"), "one", "two words"};
  const Result reference = native(argv);
  expect_exit(reference, 0);
  ASSERT_EQ(reference.out, "hello from sh\n0: " + program("hello_script") +
                               "\nargc: 2\narg: one\narg: two words\n");
  expect_same(reference, launched(argv));
}

TEST_F(Launch, OnlyStdioReachesProgram) {
  // tp-run itself gets an extra open fd (3); the program must see only 0, 1 and 2.
  // (Natively the fd is not passed: this checks list_fds and the harness.)
  const int extra = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(extra, 0);
  Command command = this->command(launch({program("list_fds")}));
  if (!native_mode())
    command.inherit_fd = extra;
  const Result result = tpit::run(command);
  close(extra);
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "0\n1\n2\n");
}

TEST_F(Launch, VerboseKeepsStdoutClean) {
  const Result result = launched({program("hello")}, {"-v"});
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "hello, world\n") << "tp-run -v must write diagnostics to stderr only";
}

TEST_F(Launch, SlotOptionsAreAccepted) {
  const Result result = launched({program("hello")}, {"--slots", "4", "--slot-size", "16G"});
  expect_exit(result, 0);
  EXPECT_EQ(result.out, "hello, world\n");
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace tpit
