// What tp-run refuses to run, and how: its own exit codes (127 not found, 126 found but not
// runnable), nothing on stdout, and only "tp-run: " lines on stderr that name the file.
// The preconditions (that the refused files really are what they claim) are checked in
// native mode too; the refusals themselves need tp-run.
#include <elf.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sstream>

#include "fixture.h"

namespace tpit {
namespace {

class Refusal : public TpTest {
 protected:
  // Exit `code`, empty stdout, a non-empty stderr of "tp-run: " lines that mentions `name`
  // and, if given, `reason`.
  static void expect_refused(const Result& result, int code, const std::string& name,
                             const std::string& reason = "") {
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == code)
        << "expected exit " << code << ": " << describe(result);
    EXPECT_EQ(result.out, "") << "tp-run must never write to stdout";
    ASSERT_FALSE(result.err.empty()) << "a refusal must say why on stderr";
    EXPECT_EQ(result.err.back(), '\n') << "stderr must end with a newline: " << result.err;
    std::istringstream lines(result.err);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_EQ(line.rfind("tp-run: ", 0), 0u) << "stderr line without \"tp-run: \": " << line;
    }
    EXPECT_NE(result.err.find(name), std::string::npos)
        << "the message must name " << name << ": " << result.err;
    if (!reason.empty()) {
      EXPECT_NE(result.err.find(reason), std::string::npos)
          << "the message must say \"" << reason << "\": " << result.err;
    }
  }
};

// A non-PIE (ET_EXEC) image runs at its link address, outside any slot, when that
// range is free in the space; a second one that needs the same range is refused,
// naming the program that holds it.
TEST_F(Refusal, NonPieImageRunsAtItsAddressOnceAtATime) {
  const auto elf = read_elf(program("hello_nopie"));
  ASSERT_TRUE(elf.has_value());
  ASSERT_EQ(elf->type, unsigned{ET_EXEC}) << "hello_nopie must be a non-PIE executable";
  const Result native_run = run({program("hello_nopie")});
  ASSERT_EQ(native_run.out, "hello, world\n") << "hello_nopie must run natively";
  TP_REQUIRE_SPACE();

  const Result private_run = run(launch({program("hello_nopie")}));
  EXPECT_TRUE(WIFEXITED(private_run.status) && WEXITSTATUS(private_run.status) == 0 &&
              private_run.out == native_run.out && private_run.err.empty())
      << describe(private_run);

  const std::string pid_file = work_dir_ + "/holder.pid";
  Child holder(command(launch_in("fixed", {program("sleeper_nopie"), pid_file})));
  ASSERT_TRUE(holder.started());
  ASSERT_GT(wait_for_pid_file(pid_file, holder), 0);
  expect_refused(run(launch_in("fixed", {program("hello_nopie")})), 126, "hello_nopie", "sleeper_nopie");
  ASSERT_TRUE(holder.signal(SIGTERM));
  holder.finish();
  // Its range is free again once the holder has ended.
  const Result after = run(launch_in("fixed", {program("hello_nopie")}));
  EXPECT_TRUE(WIFEXITED(after.status) && WEXITSTATUS(after.status) == 0 && after.out == native_run.out)
      << describe(after);
}

TEST_F(Refusal, MissingProgramIs127) {
  const std::string missing = work_dir_ + "/no_such_program";
  struct stat info {};
  ASSERT_NE(stat(missing.c_str(), &info), 0);
  ASSERT_FALSE(find_in_path("tp-it-no-such-program", env_).has_value());
  TP_REQUIRE_RUNTIME("the refusal is tp-run's");

  {
    SCOPED_TRACE("a path");
    expect_refused(run(launch({missing, "arg"})), 127, "no_such_program");
  }
  {
    SCOPED_TRACE("a name looked up in PATH");
    expect_refused(run(launch({"tp-it-no-such-program", "arg"})), 127, "tp-it-no-such-program");
  }
}

TEST_F(Refusal, DirectoryIs126) {
  const std::string dir = work_dir_ + "/a_directory";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  TP_REQUIRE_RUNTIME("the refusal is tp-run's");

  expect_refused(run(launch({dir})), 126, "a_directory");
}

TEST_F(Refusal, FileWithoutExecutePermissionIs126) {
  const std::string file = work_dir_ + "/hello_not_executable";
  write_file(file, read_file(program("hello")), 0644);
  ASSERT_EQ(read_file(file), read_file(program("hello")));
  // (Even root may not execute a file without any execute bit.)
  TP_REQUIRE_RUNTIME("the refusal is tp-run's");

  expect_refused(run(launch({file})), 126, "hello_not_executable");
}

TEST_F(Refusal, TruncatedElfIs126) {
  // A valid ELF header whose program headers lie past the end of the file.
  const std::string file = work_dir_ + "/hello_truncated";
  write_file(file, read_file(program("hello")).substr(0, sizeof(Elf64_Ehdr)), 0755);
  ASSERT_FALSE(read_elf(file).has_value()) << "the truncated file must not read as an ELF";
  TP_REQUIRE_RUNTIME("the refusal is tp-run's");

  expect_refused(run(launch({file})), 126, "hello_truncated");
}

}  // namespace
}  // namespace tpit
