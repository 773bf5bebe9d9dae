// Helpers shared by the memory benchmarks' drivers: run a program to
// completion, timing it and capturing its stdout; medians.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace tp_bench {

inline double now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

struct Run {
  int status;  // as waitpid reports it
  double wall_us;
  std::string out;
};

inline std::string command_line(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

// argv and envp (this process's environment plus `extra_env`) for posix_spawn;
// the strings stay owned by the caller's vectors.
struct ExecVectors {
  std::vector<char*> argv, envp;
};
inline ExecVectors exec_vectors(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
  ExecVectors v;
  for (const auto& a : args) v.argv.push_back(const_cast<char*>(a.c_str()));
  v.argv.push_back(nullptr);
  for (char** e = environ; *e; ++e) v.envp.push_back(*e);
  for (const auto& e : extra_env) v.envp.push_back(const_cast<char*>(e.c_str()));
  v.envp.push_back(nullptr);
  return v;
}

// Runs argv to completion with `extra_env` added to the environment, stdout
// captured (it must stay under a pipe's capacity: these programs print one
// line), stderr to the driver's stderr unless `quiet` (then /dev/null).
inline Run spawn_and_wait(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                          bool quiet) {
  ExecVectors exec = exec_vectors(args, extra_env);
  std::vector<char*>&argv = exec.argv, &envp = exec.envp;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    perror("pipe2");
    exit(1);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  double start = now_us();
  pid_t pid;
  if (int e = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()); e != 0) {
    fprintf(stderr, "posix_spawn %s: %s\n", argv[0], strerror(e));
    exit(1);
  }
  int status;
  waitpid(pid, &status, 0);
  double elapsed = now_us() - start;
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  close(fds[0]);
  return {status, elapsed, out};
}

// As spawn_and_wait; exits the driver, naming the command, when it fails.
inline Run run_captured(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
  Run r = spawn_and_wait(args, extra_env, false);
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    std::string cmd = command_line(args);
    for (const auto& e : extra_env) cmd = e + " " + cmd;
    if (WIFSIGNALED(r.status))
      fprintf(stderr, "benchmark: `%s` killed by signal %d\n", cmd.c_str(), WTERMSIG(r.status));
    else
      fprintf(stderr, "benchmark: `%s` exited with %d\n", cmd.c_str(), WEXITSTATUS(r.status));
    exit(1);
  }
  return r;
}

// The exit code of a quiet run (-1 when killed by a signal).
inline int run_status(const std::vector<std::string>& args) {
  Run r = spawn_and_wait(args, {}, true);
  return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A child started in the background with its stdout on a pipe (`out`, the
// read end), or on /dev/null when not captured.
struct Child {
  pid_t pid = -1;
  int out = -1;
};

inline Child spawn_piped(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                         bool capture = true) {
  ExecVectors exec = exec_vectors(args, extra_env);
  std::vector<char*>&argv = exec.argv, &envp = exec.envp;
  int fds[2] = {-1, -1};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (capture) {
    if (pipe2(fds, O_CLOEXEC) != 0) {
      perror("pipe2");
      exit(1);
    }
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  Child c;
  if (int e = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), envp.data()); e != 0) {
    fprintf(stderr, "posix_spawn %s: %s\n", argv[0], strerror(e));
    exit(1);
  }
  posix_spawn_file_actions_destroy(&fa);
  if (capture) {
    close(fds[1]);
    c.out = fds[0];
  }
  return c;
}

// One line (without its newline) from fd; empty at end of file.
inline std::string read_line(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

inline std::string read_rest(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  return out;
}

// Waits for the child; exits the driver, naming `what`, unless it exited 0.
inline void wait_ok(pid_t pid, const std::string& what) {
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      fprintf(stderr, "benchmark: %s killed by signal %d\n", what.c_str(), WTERMSIG(status));
    else
      fprintf(stderr, "benchmark: %s failed (status %d)\n", what.c_str(), status);
    exit(1);
  }
}

// The value of "key=V" in a program's output (exits the driver if missing).
inline double field(const std::string& out, const std::string& key, const std::string& who) {
  auto at = out.find(key + "=");
  if (at == std::string::npos) {
    fprintf(stderr, "benchmark: %s printed '%s', no %s\n", who.c_str(), out.c_str(), key.c_str());
    exit(1);
  }
  return strtod(out.c_str() + at + key.size() + 1, nullptr);
}

// A named space started for one benchmark, stopped when the driver exits
// (also when it exits early on a failure).
inline std::vector<std::string>& spaces_to_stop() {
  static std::vector<std::string> v;
  return v;
}

inline std::string& tp_space_tool() {
  static std::string s;
  return s;
}

inline void stop_spaces() {
  for (const auto& name : spaces_to_stop()) spawn_and_wait({tp_space_tool(), "stop", name}, {}, true);
  spaces_to_stop().clear();
}

inline void start_space(const std::string& tp_space, const std::string& name,
                        const std::vector<std::string>& options = {}) {
  tp_space_tool() = tp_space;
  std::vector<std::string> cmd{tp_space, "start", name};
  cmd.insert(cmd.end(), options.begin(), options.end());
  if (spaces_to_stop().empty()) atexit(stop_spaces);
  spaces_to_stop().push_back(name);
  run_captured(cmd);
}

// Appends one line to the closing note of docs/benchmarks.md (the file named
// by $TP_BENCH_SUMMARY, when set).
inline void summary(const char* format, ...) {
  const char* path = getenv("TP_BENCH_SUMMARY");
  if (!path || !*path) return;
  FILE* f = fopen(path, "a");
  if (!f) return;
  va_list ap;
  va_start(ap, format);
  vfprintf(f, format, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

// 1234567 -> "1,234,567" (rounded); small values keep one or two decimals.
inline std::string human(double v) {
  char buf[64];
  if (v < 10) snprintf(buf, sizeof buf, "%.2f", v);
  else if (v < 100) snprintf(buf, sizeof buf, "%.1f", v);
  else {
    long long n = (long long)(v + 0.5);
    std::string digits = std::to_string(n), s;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i && (digits.size() - i) % 3 == 0) s += ',';
      s += digits[i];
    }
    return s;
  }
  return buf;
}

// A ratio as "1.23x" / "45.6x" / "12,345x".
inline std::string ratio(double r) { return human(r) + "x"; }

}  // namespace tp_bench
