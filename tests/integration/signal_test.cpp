// Signals sent to tp-run reach the program; a tp-run killed by SIGKILL takes its program
// with it. Each test runs in a private space (tp-run hosts it) and in a named space (the
// host is another process), as both are the caller's view of the same contract.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

#include "fixture.h"

namespace tpit {
namespace {

enum class SpaceKind { Private, Named };

std::string kind_name(SpaceKind kind) { return kind == SpaceKind::Private ? "private" : "named"; }
// How gtest (and so ctest's test names) shows the parameter.
void PrintTo(SpaceKind kind, std::ostream* out) { *out << kind_name(kind); }

class SignalTest : public TpTest {
 protected:
  // `program_argv` through tp-run in a space of `kind` (directly in native mode).
  std::vector<std::string> launch_kind(SpaceKind kind, const std::vector<std::string>& argv) {
    if (kind == SpaceKind::Named)
      return launch_in("signals", argv);
    return launch(argv);
  }
};

class Forwarding : public SignalTest,
                   public ::testing::WithParamInterface<std::tuple<SpaceKind, int>> {};

TEST_P(Forwarding, SignalToLauncherReachesProgram) {
  const auto [kind, signal] = GetParam();
  if (kind == SpaceKind::Named)
    TP_REQUIRE_SPACE();
  Child child(command(launch_kind(kind, {program("wait_signal")})));
  ASSERT_TRUE(child.started());
  // "ready" comes once the program's handlers are installed.
  ASSERT_TRUE(child.wait_for_output("ready\n"));
  ASSERT_TRUE(child.signal(signal)) << "the command ended early: " << describe(child.finish());
  const Result result = child.finish();
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0) << describe(result);
  EXPECT_EQ(result.out, "ready\ngot SIG" + std::string(sigabbrev_np(signal)) + "\n");
  EXPECT_EQ(result.err, "");
}

INSTANTIATE_TEST_SUITE_P(
    AllForwardedSignals, Forwarding,
    ::testing::Combine(::testing::Values(SpaceKind::Private, SpaceKind::Named),
                       ::testing::Values(SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT,
                                         SIGWINCH, SIGALRM, SIGCONT, SIGPIPE)),
    [](const auto& test_param) {
      return kind_name(std::get<0>(test_param.param)) + "_SIG" +
             sigabbrev_np(std::get<1>(test_param.param));
    });

class LauncherDeath : public SignalTest, public ::testing::WithParamInterface<SpaceKind> {};

TEST_P(LauncherDeath, SigkillOfLauncherKillsProgramWithinOneSecond) {
  if (GetParam() == SpaceKind::Named)
    TP_REQUIRE_SPACE();
  const std::string pid_file = work_dir_ + "/sleeper.pid";
  Child child(command(launch_kind(GetParam(), {program("sleeper"), pid_file})));
  ASSERT_TRUE(child.started());
  const pid_t pid = wait_for_pid_file(pid_file, child);
  ASSERT_GT(pid, 0);
  const int pidfd = open_pidfd(pid);
  ASSERT_GE(pidfd, 0) << "the program (pid " << pid << ") is already gone";
  ASSERT_FALSE(wait_until_gone(pidfd, 0ms)) << "the program ended by itself";

  ASSERT_TRUE(child.signal(SIGKILL));
  // The contract: gone within 1 s of tp-run's death (the pidfd turns readable when the
  // program has exited, reaped or not).
  const bool gone = wait_until_gone(pidfd, 1s);
  EXPECT_TRUE(gone) << "program " << pid << " still there 1 s after tp-run was killed (state "
                    << process_state(pid) << ")";
  if (!gone)
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);  // clean up after a failure
  close(pidfd);
  const Result result = child.finish();
  EXPECT_TRUE(WIFSIGNALED(result.status) && WTERMSIG(result.status) == SIGKILL)
      << describe(result);
}

INSTANTIATE_TEST_SUITE_P(BothSpaceKinds, LauncherDeath,
                         ::testing::Values(SpaceKind::Private, SpaceKind::Named),
                         [](const auto& test_param) { return kind_name(test_param.param); });

}  // namespace
}  // namespace tpit
