// The process harness of the integration tests: runs a command with exactly the argv,
// environment, cwd and stdin bytes given, captures stdout and stderr through pipes, and
// returns the raw wait status. Nothing can hang a test: every wait has a deadline, and a
// command that outlives it is killed (its whole process group) and fails the test.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpit {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Command {
  std::vector<std::string> argv;  // argv[0] is the file run: a path, or a name looked up in
                                  // the PATH of `env` (like execvp)
  std::vector<std::string> env;   // the complete environment of the command
  std::string cwd;                // empty: the test's own cwd
  std::string stdin_data;         // written to the command's stdin, which is then closed
  Clock::duration timeout = 60s;  // from spawn to exit, both pipes drained
  int inherit_fd = -1;            // if >= 0, also passed to the command as fd 3
};

struct Result {
  int status = -1;        // raw wait status (WIFEXITED / WIFSIGNALED ...); -1 if never reaped
  std::string out;        // everything the command wrote to stdout
  std::string err;        // everything the command wrote to stderr
  bool timed_out = false; // killed by the harness at the deadline (the test has failed)
};

// "exited 42", "killed by SIGSEGV (core dumped)"...
std::string describe_status(int status);
// The command as one line, long argument lists shortened, for failure messages.
std::string describe_command(const std::vector<std::string>& argv);
// A result for a failure message: status, then stdout and stderr (shortened).
std::string describe(const Result& result);

// One running command. Construction spawns it (spawn failures fail the test: check
// started()); the destructor kills and reaps whatever is still running.
class Child {
 public:
  explicit Child(const Command& command);
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }

  // Pumps stdin/stdout/stderr until stdout contains `needle`; false (and a test failure)
  // if the command ends or `timeout` passes first.
  bool wait_for_output(std::string_view needle, Clock::duration timeout = 30s);
  // Sends `signal` to the command (not to its process group); false if it is gone.
  bool signal(int signal) const;
  // One round of pumping stdin/stdout/stderr, waiting at most `max_wait` for activity.
  void pump(Clock::duration max_wait);
  // The command has exited and both pipes are at EOF.
  bool done() const;
  // Pumps until the command has exited and both pipes are at EOF, or the command's own
  // deadline passes: then kills it, marks timed_out and fails the test.
  Result finish();

 private:
  friend std::vector<Result> finish_all(std::vector<Child>& children);
  // One poll round over this child's fds; adds them to / reads them from `fds` via offsets.
  void add_poll_fds(std::vector<pollfd>& fds);
  void handle_poll_fds(const pollfd* fds);
  void kill_and_reap(const char* why);
  void close_fds();

  Command command_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  size_t stdin_written_ = 0;
  bool exited_ = false;
  Clock::time_point deadline_;
  Result result_;
};

// Runs one command to the end.
Result run(const Command& command);
// Pumps all children at once (for many concurrent commands) until each has finished.
std::vector<Result> finish_all(std::vector<Child>& children);

// execvp-style lookup of `name` in the PATH of `env` (the name itself if it has a '/').
std::optional<std::string> find_in_path(const std::string& name,
                                        const std::vector<std::string>& env);

// Waits until `path` exists and holds a complete decimal pid (written atomically by
// tests/programs/sleeper); fails the test and returns -1 if `child` ends or time runs out.
pid_t wait_for_pid_file(const std::string& path, Child& child, Clock::duration timeout = 30s);

// True once `pid` has exited (zombie or reaped). Uses a pidfd so pid reuse cannot fool it.
// Returns false if the process still runs after `timeout`.
bool wait_until_gone(int pidfd, Clock::duration timeout);
int open_pidfd(pid_t pid);  // -1 if the process is already gone
// "R", "S", "Z"... from /proc/PID/stat; empty if there is no such process.
std::string process_state(pid_t pid);

// The parts of an ELF header the tests check their own programs with.
struct ElfSummary {
  unsigned type = 0;        // ET_EXEC, ET_DYN...
  bool has_interp = false;  // a PT_INTERP program header
};
std::optional<ElfSummary> read_elf(const std::string& path);  // nullopt: not a 64-bit ELF

// Small file helpers.
std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view data, mode_t mode = 0644);
void remove_tree(const std::string& path);
std::string make_temp_dir(const std::string& prefix);  // under /tmp, short (socket paths)
size_t count_entries(const std::string& dir);           // e.g. /proc/PID/fd
size_t count_lines(const std::string& path);            // e.g. /proc/PID/maps

}  // namespace tpit
