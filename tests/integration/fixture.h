// The test fixture every integration test uses: a fresh $TP_RUNTIME_DIR and work dir per
// test, argv builders for tp-run (or native runs with TP_IT_NATIVE=1), and teardown that
// stops every named space the test used, even when the test failed.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"
#include "json.h"

namespace tpit {

// TP_IT_NATIVE=1: tests that need no shared space run their programs directly instead of
// through tp-run (to check the tests and their native expectations without a runtime).
bool native_mode();

std::string tp_run_path();
std::string tp_space_path();
std::string programs_dir();
// A test program built by tests/programs (hello, exit_code, ...).
std::string program(const std::string& name);
// A sample program (string_put, pingpong_host, ...); empty if samples were not built.
std::string sample(const std::string& name);
bool have_rust();

// Skips the test in native mode, saying why: what it checks needs tp-run itself.
#define TP_REQUIRE_RUNTIME(why)                          \
  do {                                                   \
    if (::tpit::native_mode())                           \
      GTEST_SKIP() << "TP_IT_NATIVE=1: " << (why);       \
  } while (0)
#define TP_REQUIRE_SPACE() TP_REQUIRE_RUNTIME("needs a shared named space")

// Polls `value` (every 10 ms, 10 s at most) until it equals `expected`; returns the last
// value read. Waiting for the host to settle is not a timing assertion: only the final
// value is checked.
long settle_to(const std::function<long()>& value, long expected);
// The same, until `good` holds.
long settle_until(const std::function<long()>& value, const std::function<bool(long)>& good);
// Reads `value` until it is the same 5 times in a row, 20 ms apart (5 s at most).
long stable(const std::function<long()>& value);

// True in a sanitizer build (scripts/test.sh's second stage builds tp-run and tp-space
// with ASan too): there the host's allocator maps its size-class regions lazily and keeps
// freed memory in quarantine, so the host's maps count and RSS say nothing about the
// runtime. Descriptors and threads are compared exactly in every build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

bool exited_with(const Result& result, int code);
bool killed_by(const Result& result, int signal);

class TpTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `program_argv` through `tp-run [options] --` (a private space), or directly in
  // native mode.
  std::vector<std::string> launch(const std::vector<std::string>& program_argv,
                                  const std::vector<std::string>& options = {}) const;
  // `tp-run --space NAME [options] -- program_argv`; registers NAME for teardown.
  std::vector<std::string> launch_in(const std::string& space,
                                     const std::vector<std::string>& program_argv,
                                     const std::vector<std::string>& options = {});
  // A command with this test's environment and work dir.
  Command command(std::vector<std::string> argv) const;
  Result run(std::vector<std::string> argv) const { return tpit::run(command(std::move(argv))); }
  // `tp-space ARGS...`.
  Result tp_space(std::vector<std::string> args) const;
  // `tp-space start NAME [options]` must succeed with nothing on stdout; returns the host
  // pid (-1, and a failure, if it failed). Teardown stops the space.
  pid_t start_space(const std::string& name, const std::vector<std::string>& options = {});
  // Marks a space name as used by this test: teardown stops it.
  const std::string& use_space(const std::string& name);
  // `tp-space list --json`, parsed; fails the test and returns nullopt on bad output.
  std::optional<Json> list_spaces() const;
  // The entry of `space` in `tp-space list --json`, if listed.
  std::optional<Json> find_space(const std::string& space) const;
  // The host pid of `space` from `tp-space list --json`; -1 (and a failure) if absent.
  pid_t host_pid(const std::string& space) const;
  // `tp-space ps SPACE --json`, parsed.
  std::optional<Json> ps(const std::string& space) const;

  std::string root_;         // everything this test creates lives below
  std::string runtime_dir_;  // $TP_RUNTIME_DIR of every command
  std::string work_dir_;     // cwd of every command
  std::vector<std::string> env_;

 private:
  std::vector<std::string> spaces_;
};

}  // namespace tpit
