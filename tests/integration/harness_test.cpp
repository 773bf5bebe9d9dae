// The harness checks itself: its failure paths (a command that hangs, one that leaves a
// process holding its pipes) must fail the test and clean up rather than hang, and the JSON
// reader must accept what tp-space prints. Independent of tp-run; runs in both modes.
#include <gtest/gtest-spi.h>
#include <signal.h>
#include <sys/wait.h>

#include "fixture.h"

namespace tpit {
namespace {

class Harness : public TpTest {};

TEST_F(Harness, PassesArgvEnvCwdAndStdinAndReturnsRawStatus) {
  Command command = this->command({"/bin/sh", "-c",
                                   "cat; printf '%s|%s|%s' \"$1\" \"$TP_IT_X\" \"$(pwd)\"; "
                                   "echo oops >&2; exit 7",
                                   "sh", "first arg"});
  command.env.push_back("TP_IT_X=x value");
  command.stdin_data = std::string("in\0put", 6);
  const Result result = tpit::run(command);
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 7) << describe(result);
  EXPECT_EQ(result.out, std::string("in\0put", 6) + "first arg|x value|" + work_dir_);
  EXPECT_EQ(result.err, "oops\n");
  EXPECT_FALSE(result.timed_out);
}

TEST_F(Harness, TimeoutKillsTheCommandAndFailsTheTest) {
  Command command = this->command({"/bin/sh", "-c", "echo started; exec sleep 600"});
  command.timeout = 300ms;
  Result result;
  EXPECT_NONFATAL_FAILURE(result = tpit::run(command), "timed out");
  EXPECT_TRUE(result.timed_out);
  EXPECT_TRUE(WIFSIGNALED(result.status) && WTERMSIG(result.status) == SIGKILL)
      << describe(result);
  EXPECT_EQ(result.out, "started\n");
}

TEST_F(Harness, LeftoverProcessHoldingStdoutFailsTheTestAndIsKilled) {
  const std::string pid_file = work_dir_ + "/leftover.pid";
  Command command = this->command(
      {"/bin/sh", "-c", "sleep 600 & echo $! > \"$1\"; exit 0", "sh",
       pid_file});
  command.timeout = 500ms;
  Result result;
  EXPECT_NONFATAL_FAILURE(result = tpit::run(command), "stayed open");
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0) << describe(result);
  const pid_t leftover = static_cast<pid_t>(std::atol(read_file(pid_file).c_str()));
  ASSERT_GT(leftover, 0);
  const int pidfd = open_pidfd(leftover);
  // Killed with the command's process group (gone, or a zombie until init reaps it).
  EXPECT_TRUE(pidfd < 0 || wait_until_gone(pidfd, 10s)) << "leftover sleep still running";
  if (pidfd >= 0)
    close(pidfd);
}

TEST_F(Harness, WaitForOutputFailsWhenTheCommandEndsFirst) {
  Child child(command({"/bin/sh", "-c", "echo not it"}));
  EXPECT_NONFATAL_FAILURE(EXPECT_FALSE(child.wait_for_output("ready\n")), "ended before");
  const Result result = child.finish();
  EXPECT_EQ(result.out, "not it\n");
}

TEST_F(Harness, FinishAllRunsManyCommandsAtOnce) {
  std::vector<Child> children;
  for (int i = 0; i < 50; ++i)
    children.emplace_back(command({"/bin/sh", "-c", "echo $1; exit $1", "sh", std::to_string(i)}));
  const auto results = finish_all(children);
  ASSERT_EQ(results.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_TRUE(WIFEXITED(results[i].status) && WEXITSTATUS(results[i].status) == i);
    EXPECT_EQ(results[i].out, std::to_string(i) + "\n");
  }
}

TEST(Json, ReadsTheShapesTpSpacePrints) {
  std::string error;
  const auto list = parse_json(
      R"( [{"name":"demo","pid":1234,"programs":2,"slots":64},{"name":"b\u00fc\"x","pid":5,)"
      R"("programs":0,"slots":8}] )",
      &error);
  ASSERT_TRUE(list.has_value()) << error;
  ASSERT_TRUE(list->is_array());
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0].find("name")->text, "demo");
  EXPECT_EQ(list->items[0].find("pid")->integer(), 1234);
  EXPECT_EQ(list->items[1].find("name")->text, "b\xc3\xbc\"x");

  const auto ps = parse_json(
      R"({"space":"demo","slots":64,"programs":[{"slot":0,"pid":123,"state":"running",)"
      R"("uptime_ms":5,"program":"/path","args":["a","b"]}]})",
      &error);
  ASSERT_TRUE(ps.has_value()) << error;
  const Json* programs = ps->find("programs");
  ASSERT_TRUE(programs != nullptr && programs->is_array() && programs->items.size() == 1);
  EXPECT_EQ(programs->items[0].find("args")->items[1].text, "b");
  EXPECT_EQ(programs->items[0].find("uptime_ms")->integer(), 5);
  EXPECT_FALSE(ps->find("missing"));

  for (const char* bad : {"", "[1,]", "{\"a\" 1}", "[1] x", "\"unterminated", "01x", "[tru]"}) {
    EXPECT_FALSE(parse_json(bad, &error).has_value()) << bad;
    EXPECT_FALSE(error.empty());
  }
  EXPECT_FALSE(parse_json("1.5", &error)->integer().has_value());
}

}  // namespace
}  // namespace tpit
