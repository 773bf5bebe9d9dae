// Job control through tp-run: a stop signal stops the program, then tp-run itself (so a
// shell sees a stopped job); SIGCONT resumes both. Checked in a private and a named space.
// tp-run runs in a process group of its own, as a shell's job does: in an orphaned group
// the kernel discards these signals' stop (for tp-run and natively alike).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "fixture.h"

namespace tpit {
namespace {

// The state letter of a process (R, S, T, Z...) from /proc/PID/stat.
char proc_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = content.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= content.size() ? '?' : content[close_paren + 2];
}

// Polls until `pid` is in `state` (10 s at most); returns the last state seen.
char wait_for_state(pid_t pid, char state) {
  return char(settle_to([&] { return long(proc_state(pid)); }, long(state)));
}

// waitpid with a deadline (10 s): 0 when it passed, so a broken stop fails instead of hanging.
pid_t wait_with_deadline(pid_t pid, int* status, int options) {
  for (int i = 0; i < 1000; ++i) {
    pid_t r = waitpid(pid, status, options | WNOHANG);
    if (r != 0) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

// Kills tp-run (and so its program) if a check failed half-way.
struct KillOnExit {
  pid_t pid;
  ~KillOnExit() {
    if (pid > 0 && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
  }
};

class JobControl : public TpTest, public ::testing::WithParamInterface<bool> {};

TEST_P(JobControl, StopSignalStopsProgramThenLauncherAndContResumesBoth) {
  TP_REQUIRE_RUNTIME("job control of tp-run");
  const bool named = GetParam();
  const std::string pid_file = work_dir_ + "/job.pid";
  std::vector<std::string> argv = named ? launch_in("jobs", {program("sleeper"), pid_file})
                                        : launch({program("sleeper"), pid_file});
  Command cmd = command(argv);
  // A plain fork/exec: the test needs waitpid(WUNTRACED) on tp-run itself.
  pid_t launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    setpgid(0, 0);
    if (!cmd.cwd.empty() && chdir(cmd.cwd.c_str()) != 0) _exit(127);
    std::vector<char*> args, envp;
    for (auto& a : cmd.argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : cmd.env) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  KillOnExit guard{launcher};
  pid_t program_pid = -1;
  for (int i = 0; i < 3000 && program_pid <= 0; ++i) {
    std::ifstream f(pid_file);
    if (!(f >> program_pid)) program_pid = -1;
    if (program_pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(program_pid, 0) << "the program never wrote its pid";

  for (int sig : {SIGTSTP, SIGTTIN, SIGTTOU}) {
    SCOPED_TRACE(sigabbrev_np(sig));
    ASSERT_EQ(kill(launcher, sig), 0);
    int status = 0;
    ASSERT_EQ(wait_with_deadline(launcher, &status, WUNTRACED), launcher) << "tp-run did not stop within 10 s";
    ASSERT_TRUE(WIFSTOPPED(status)) << "tp-run did not stop (status " << status << ")";
    EXPECT_EQ(WSTOPSIG(status), sig) << "tp-run must stop with the signal it received";
    EXPECT_EQ(wait_for_state(program_pid, 'T'), 'T') << "the program was not stopped";

    ASSERT_EQ(kill(launcher, SIGCONT), 0);
    ASSERT_EQ(wait_with_deadline(launcher, &status, WCONTINUED), launcher) << "tp-run was not continued";
    EXPECT_TRUE(WIFCONTINUED(status));
    EXPECT_EQ(wait_for_state(program_pid, 'S'), 'S') << "the program was not resumed";
  }

  ASSERT_EQ(kill(launcher, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(wait_with_deadline(launcher, &status, 0), launcher) << "tp-run did not end on SIGTERM";
  guard.pid = -1;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
}

INSTANTIATE_TEST_SUITE_P(BothSpaceKinds, JobControl, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "named" : "private"; });

}  // namespace
}  // namespace tpit
