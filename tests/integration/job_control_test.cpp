// Job control through tp-run: a stop signal stops the program, then tp-run itself (so a
// shell sees a stopped job); SIGCONT resumes both. Checked in a private and a named space.
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
    if (!cmd.cwd.empty() && chdir(cmd.cwd.c_str()) != 0) _exit(127);
    std::vector<char*> args, envp;
    for (auto& a : cmd.argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : cmd.env) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
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
    ASSERT_EQ(waitpid(launcher, &status, WUNTRACED), launcher);
    ASSERT_TRUE(WIFSTOPPED(status)) << "tp-run did not stop (status " << status << ")";
    EXPECT_EQ(WSTOPSIG(status), sig) << "tp-run must stop with the signal it received";
    EXPECT_EQ(wait_for_state(program_pid, 'T'), 'T') << "the program was not stopped";

    ASSERT_EQ(kill(launcher, SIGCONT), 0);
    ASSERT_EQ(waitpid(launcher, &status, WCONTINUED), launcher);
    EXPECT_TRUE(WIFCONTINUED(status));
    EXPECT_EQ(wait_for_state(program_pid, 'S'), 'S') << "the program was not resumed";
  }

  ASSERT_EQ(kill(launcher, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(launcher, &status, 0), launcher);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;
}

INSTANTIATE_TEST_SUITE_P(BothSpaceKinds, JobControl, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "named" : "private"; });

}  // namespace
}  // namespace tpit
