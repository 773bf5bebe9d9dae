// Helpers shared by the memory benchmarks' drivers: run a program to
// completion, timing it and capturing its stdout; medians.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
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

// Runs argv to completion with `extra_env` added to the environment, stdout
// captured (it must stay under a pipe's capacity: these programs print one
// line), stderr to the driver's stderr unless `quiet` (then /dev/null).
inline Run spawn_and_wait(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                          bool quiet) {
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (const auto& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
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

}  // namespace tp_bench
