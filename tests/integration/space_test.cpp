// Named spaces: programs started separately share memory; many launchers at once; a host
// that does not leak over thousands of launches; tp-space list/ps/stop. All of this needs
// tp-run and tp-space: in native mode these tests skip.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <thread>

#include "fixture.h"

namespace tpit {
namespace {

class Space : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
  }

  static void expect_hello(const Result& result) {
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0 &&
                result.out == "hello, world\n" && result.err.empty())
        << describe(result);
  }

  static bool exited_ok(const Result& result) {
    return WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0;
  }


  // The ps entry of `pid` in `space`, if listed.
  std::optional<Json> ps_entry(const std::string& space, pid_t pid) const {
    const auto listed = ps(space);
    if (!listed)
      return std::nullopt;
    const Json* programs = listed->find("programs");
    if (programs == nullptr || !programs->is_array()) {
      ADD_FAILURE() << "tp-space ps --json has no \"programs\" array";
      return std::nullopt;
    }
    for (const auto& entry : programs->items) {
      const Json* entry_pid = entry.find("pid");
      if (entry_pid != nullptr && entry_pid->integer() == pid)
        return entry;
    }
    return std::nullopt;
  }
};

TEST_F(Space, TwoProgramsShareAString) {
  if (sample("string_put").empty())
    GTEST_SKIP() << "samples not built (TP_BUILD_SAMPLES=OFF)";
  const std::string text = "a std::string longer than the small-string buffer, from string_put";
  std::vector<std::string> put_argv{sample("string_put")};  // one argument per word
  std::istringstream words(text);
  for (std::string word; words >> word;)
    put_argv.push_back(word);
  Child writer(command(launch_in("demo", put_argv)));
  ASSERT_TRUE(writer.started());
  ASSERT_TRUE(writer.wait_for_output("\n"));
  const std::string line = writer.out();
  ASSERT_EQ(line.rfind("0x", 0), 0u) << "string_put printed no address: " << line;
  const std::string address = line.substr(0, line.size() - 1);

  const Result reader = run(launch_in("demo", {sample("string_get"), address}));
  EXPECT_TRUE(exited_ok(reader)) << describe(reader);
  EXPECT_EQ(reader.out, text + "\n");
  EXPECT_EQ(reader.err, "");

  const Result written = writer.finish();
  EXPECT_TRUE(exited_ok(written)) << describe(written);
  EXPECT_EQ(written.out, line);
}

TEST_F(Space, TwoProgramsPingPongThroughOneMutexAndCondvar) {
  if (sample("pingpong_host").empty())
    GTEST_SKIP() << "samples not built (TP_BUILD_SAMPLES=OFF)";
  Child host(command(launch_in("pingpong", {sample("pingpong_host")})));
  ASSERT_TRUE(host.started());
  ASSERT_TRUE(host.wait_for_output("\n"));
  const std::string address = host.out().substr(0, host.out().size() - 1);
  ASSERT_EQ(address.rfind("0x", 0), 0u) << "pingpong_host printed no address: " << host.out();

  const Result peer = run(launch_in("pingpong", {sample("pingpong_peer"), address}));
  EXPECT_TRUE(exited_ok(peer)) << describe(peer);
  EXPECT_EQ(peer.out, "pingpong_peer: 1000 rounds done, 2000 turns in total\n");
  const Result hosted = host.finish();
  EXPECT_TRUE(exited_ok(hosted)) << describe(hosted);
  EXPECT_EQ(hosted.out, host.out().substr(0, address.size() + 1) +
                            "pingpong_host: 1000 rounds done, 2000 turns in total\n");
}

TEST_F(Space, TwoLaunchersRacingToStartOneSpaceBothSucceed) {
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string name = "race" + std::to_string(round);
    std::vector<Child> children;
    children.emplace_back(command(launch_in(name, {program("hello")})));
    children.emplace_back(command(launch_in(name, {program("hello")})));
    for (const auto& result : finish_all(children))
      expect_hello(result);
    EXPECT_TRUE(find_space(name).has_value()) << "space " << name << " not listed afterwards";
  }
}

TEST_F(Space, TwoHundredConcurrentLaunchesIntoOneSpace) {
  // All start at once, so the first ones also race to start the space. Room for all 200
  // at once: a space's slot count is not what this test is about.
  std::vector<Child> children;
  children.reserve(200);
  for (int i = 0; i < 200; ++i) {
    Command command = this->command(launch_in("crowd", {program("hello")}, {"--slots", "256"}));
    command.timeout = 180s;
    children.emplace_back(command);
  }
  const auto results = finish_all(children);
  int good = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE("launch " + std::to_string(i));
    expect_hello(results[i]);
    good += exited_ok(results[i]) && results[i].out == "hello, world\n";
  }
  EXPECT_EQ(good, 200);
  const auto entry = find_space("crowd");
  ASSERT_TRUE(entry.has_value()) << "space crowd is not listed";
  const Json* programs = entry->find("programs");
  ASSERT_TRUE(programs != nullptr && programs->integer().has_value());
  const long left = settle_to(
      [&] {
        const auto now = find_space("crowd");
        const Json* count = now ? now->find("programs") : nullptr;
        return count != nullptr && count->integer() ? static_cast<long>(*count->integer()) : -1;
      },
      0);
  EXPECT_EQ(left, 0) << "programs still listed after every launcher finished";
}

TEST_F(Space, ThousandsOfSequentialLaunchesLeakNothingInTheHost) {
  long launches = 10'000;
  if (const char* override_count = std::getenv("TP_IT_LAUNCHES"))
    launches = std::atol(override_count);
  ASSERT_GT(launches, 0);
  // Fewer slots than warm-up launches: every slot has been used once before measuring.
  const pid_t host = start_space("churn", {"--slots", "16"});
  ASSERT_GT(host, 0);
  const std::string proc = "/proc/" + std::to_string(host);
  const auto fds = [&] { return static_cast<long>(count_entries(proc + "/fd")); };
  const auto maps = [&] { return static_cast<long>(count_lines(proc + "/maps")); };
  const auto threads = [&] { return static_cast<long>(count_entries(proc + "/task")); };

  auto launch_hello = [&](long i) {
    const Result result = run(launch_in("churn", {program("hello")}));
    if (!exited_ok(result) || result.out != "hello, world\n" || !result.err.empty()) {
      ADD_FAILURE() << "launch " << i << ": " << describe(result);
      return false;
    }
    return true;
  };
  for (long i = 0; i < 20; ++i)
    ASSERT_TRUE(launch_hello(i));
  const long fds_before = stable(fds), maps_before = stable(maps), threads_before = stable(threads);
  ASSERT_GT(fds_before, 0) << "cannot read " << proc << "/fd";
  ASSERT_GT(maps_before, 0) << "cannot read " << proc << "/maps";

  for (long i = 0; i < launches; ++i)
    ASSERT_TRUE(launch_hello(i));

  EXPECT_EQ(settle_to(fds, fds_before), fds_before)
      << "host fd count changed over " << launches << " launches";
  EXPECT_EQ(settle_to(maps, maps_before), maps_before)
      << "host maps count changed over " << launches << " launches";
  EXPECT_EQ(settle_to(threads, threads_before), threads_before)
      << "host thread count changed over " << launches << " launches";
  EXPECT_EQ(process_state(host).empty(), false) << "the host is gone";
}

TEST_F(Space, ProgramGetsLaunchersEnvironmentCwdAndStdinNotHosts) {
  // The host is started from work_dir_ with the test's environment; the program comes
  // later from another dir, with another environment.
  ASSERT_GT(start_space("elsewhere"), 0);
  const std::string dir = work_dir_ + "/launcher dir";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  char resolved[PATH_MAX];
  ASSERT_NE(realpath(dir.c_str(), resolved), nullptr);

  Command cwd = command(launch_in("elsewhere", {program("print_cwd")}));
  cwd.cwd = dir;
  const Result cwd_result = tpit::run(cwd);
  EXPECT_TRUE(exited_ok(cwd_result)) << describe(cwd_result);
  EXPECT_EQ(cwd_result.out, std::string(resolved) + "\n");

  Command env = command(launch_in("elsewhere", {program("print_env")}));
  env.env.push_back("TP_IT_ONLY_IN_LAUNCHER=yes");
  std::string expected;
  for (const auto& entry : env.env)
    expected += entry + "\n";
  const Result env_result = tpit::run(env);
  EXPECT_TRUE(exited_ok(env_result)) << describe(env_result);
  EXPECT_EQ(env_result.out, expected);

  Command cat = command(launch_in("elsewhere", {program("cat_stdin")}));
  for (int i = 0; i < 20000; ++i)
    cat.stdin_data += "line " + std::to_string(i) + "\n";
  const Result cat_result = tpit::run(cat);
  EXPECT_TRUE(exited_ok(cat_result)) << describe(cat_result);
  EXPECT_TRUE(cat_result.out == cat.stdin_data) << "stdin came back changed";

  const Result code = run(launch_in("elsewhere", {program("exit_code"), "42"}));
  EXPECT_TRUE(WIFEXITED(code.status) && WEXITSTATUS(code.status) == 42) << describe(code);
}

TEST_F(Space, ProgramIsResolvedByTheLauncherNotTheHost) {
  // The host runs elsewhere (started from work_dir_); "./hello" and a PATH lookup must use
  // the launching tp-run's cwd and PATH, as execvp in the caller would.
  ASSERT_GT(start_space("resolve"), 0);
  {
    SCOPED_TRACE("relative path");
    Command command = this->command(launch_in("resolve", {"./hello"}));
    command.cwd = programs_dir();
    expect_hello(tpit::run(command));
  }
  {
    SCOPED_TRACE("PATH lookup");
    Command command = this->command(launch_in("resolve", {"hello"}));
    std::erase_if(command.env, [](const std::string& e) { return e.rfind("PATH=", 0) == 0; });
    command.env.push_back("PATH=/nonexistent-dir:" + programs_dir() + ":/usr/bin:/bin");
    expect_hello(tpit::run(command));
  }
}

TEST_F(Space, CrashingProgramLeavesItsNeighbourRunning) {
  const std::string pid_file = work_dir_ + "/neighbour.pid";
  Child neighbour(command(launch_in("crash", {program("sleeper"), pid_file})));
  ASSERT_TRUE(neighbour.started());
  const pid_t pid = wait_for_pid_file(pid_file, neighbour);
  ASSERT_GT(pid, 0);
  const int pidfd = open_pidfd(pid);
  ASSERT_GE(pidfd, 0);

  for (const char* how : {"SEGV", "NULLDEREF", "ABRT"}) {
    SCOPED_TRACE(how);
    const Result crashed = run(launch_in("crash", {program("raise_signal"), how}));
    const int expected = std::string(how) == "ABRT" ? SIGABRT : SIGSEGV;
    EXPECT_TRUE(WIFSIGNALED(crashed.status) && WTERMSIG(crashed.status) == expected)
        << describe(crashed);
  }
  EXPECT_FALSE(wait_until_gone(pidfd, 0ms)) << "the neighbour died with the crashing program";
  expect_hello(run(launch_in("crash", {program("hello")})));

  ASSERT_TRUE(neighbour.signal(SIGTERM));
  const Result ended = neighbour.finish();
  EXPECT_TRUE(WIFSIGNALED(ended.status) && WTERMSIG(ended.status) == SIGTERM) << describe(ended);
  EXPECT_TRUE(wait_until_gone(pidfd, 10s)) << "the neighbour outlived its tp-run";
  close(pidfd);
}

TEST_F(Space, ListAndPsJsonDescribeARunningSleeper) {
  const pid_t host = start_space("observed", {"--slots", "8"});
  ASSERT_GT(host, 0);
  const std::string pid_file = work_dir_ + "/observed.pid";
  Child sleeper(command(
      launch_in("observed", {program("sleeper"), pid_file, "alpha", "beta gamma"})));
  ASSERT_TRUE(sleeper.started());
  const pid_t pid = wait_for_pid_file(pid_file, sleeper);
  ASSERT_GT(pid, 0);

  const auto space = find_space("observed");
  ASSERT_TRUE(space.has_value());
  const Json* listed_pid = space->find("pid");
  const Json* listed_slots = space->find("slots");
  const Json* listed_programs = space->find("programs");
  ASSERT_TRUE(listed_pid && listed_slots && listed_programs) << "list entry lacks fields";
  EXPECT_EQ(listed_pid->integer(), host);
  EXPECT_EQ(listed_slots->integer(), 8);
  EXPECT_EQ(listed_programs->integer(), 1);

  const auto table = ps("observed");
  ASSERT_TRUE(table.has_value());
  const Json* name = table->find("space");
  const Json* slots = table->find("slots");
  ASSERT_TRUE(name && name->is_string() && slots) << "ps lacks \"space\" or \"slots\"";
  EXPECT_EQ(name->text, "observed");
  EXPECT_EQ(slots->integer(), 8);

  const auto entry = ps_entry("observed", pid);
  ASSERT_TRUE(entry.has_value()) << "pid " << pid << " not in tp-space ps --json";
  const Json* slot = entry->find("slot");
  const Json* state = entry->find("state");
  const Json* uptime = entry->find("uptime_ms");
  const Json* path = entry->find("program");
  const Json* args = entry->find("args");
  ASSERT_TRUE(slot && state && uptime && path && args) << "ps entry lacks fields";
  ASSERT_TRUE(slot->integer().has_value());
  EXPECT_GE(*slot->integer(), 0);
  EXPECT_LT(*slot->integer(), 8);
  EXPECT_TRUE(state->is_string() && state->text == "running") << state->text;
  EXPECT_TRUE(uptime->integer().has_value() && *uptime->integer() >= 0);
  ASSERT_TRUE(path->is_string());
  EXPECT_TRUE(path->text.size() >= 8 && path->text.ends_with("/sleeper")) << path->text;
  ASSERT_TRUE(args->is_array());
  std::vector<std::string> arg_texts;
  for (const auto& arg : args->items)
    arg_texts.push_back(arg.is_string() ? arg.text : "<not a string>");
  EXPECT_EQ(arg_texts, (std::vector<std::string>{pid_file, "alpha", "beta gamma"}))
      << "\"args\" must be argv[1..]";

  ASSERT_TRUE(sleeper.signal(SIGTERM));
  const Result ended = sleeper.finish();
  EXPECT_TRUE(WIFSIGNALED(ended.status) && WTERMSIG(ended.status) == SIGTERM) << describe(ended);
  const long still_listed = settle_to([&] { return ps_entry("observed", pid) ? 1L : 0L; }, 0);
  EXPECT_EQ(still_listed, 0) << "the ended sleeper is still in tp-space ps";
}

TEST_F(Space, StopLeavesNoHostProcess) {
  const pid_t host = start_space("stopped", {"--slots", "8"});
  ASSERT_GT(host, 0);
  const int host_fd = open_pidfd(host);
  ASSERT_GE(host_fd, 0) << "host pid " << host << " from tp-space list does not exist";

  const std::string pid_file = work_dir_ + "/stopped.pid";
  Child sleeper(command(launch_in("stopped", {program("sleeper"), pid_file})));
  const pid_t pid = wait_for_pid_file(pid_file, sleeper);
  ASSERT_GT(pid, 0);
  const int program_fd = open_pidfd(pid);
  ASSERT_GE(program_fd, 0);

  const Result stopped = tp_space({"stop", "stopped"});
  EXPECT_TRUE(exited_ok(stopped)) << describe(stopped);
  EXPECT_EQ(stopped.out, "");
  // When stop returns, host and programs have exited (a zombie awaiting its reaper counts
  // as gone: it runs nothing and holds no memory).
  EXPECT_TRUE(wait_until_gone(host_fd, 0ms))
      << "host " << host << " still running after tp-space stop (state " << process_state(host)
      << ")";
  EXPECT_TRUE(wait_until_gone(program_fd, 0ms))
      << "program " << pid << " still running after tp-space stop";
  EXPECT_FALSE(find_space("stopped").has_value()) << "stopped space still listed";
  sleeper.finish();  // its tp-run must end too (how is not specified); finish() fails on a hang
  close(host_fd);
  close(program_fd);
}

}  // namespace
}  // namespace tpit
