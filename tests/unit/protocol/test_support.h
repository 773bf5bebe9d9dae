// Shared helpers for the protocol tests: one valid message of each type,
// error-text matching, and fd bookkeeping.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "protocol/messages.h"

namespace tp::proto::testing {

inline LaunchRequest sample_launch() {
  LaunchRequest m;
  m.flags = LaunchRequest::kVerbose;
  m.exec_path = "/usr/bin/true";
  m.argv = {"true", "--flag", ""};
  m.env = {"PATH=/usr/bin:/bin", "EMPTY=", "A=b=c"};
  m.sigmask = uint64_t{1} << (10 - 1);  // SIGUSR1
  m.ignored = uint64_t{1} << (13 - 1);  // SIGPIPE
  m.umask = 027;
  m.rlimits = {{7, 1024, 4096}, {3, 8 << 20, ~uint64_t{0}}};  // NOFILE, STACK
  m.stdio_mask = 0x5;  // stdin and stderr
  return m;
}

inline PsReply sample_ps_reply() {
  PsReply m;
  m.space_name = "default";
  m.slot_count = 4;
  m.slot_size = uint64_t{64} << 30;
  m.arena_base = 0x200000000000;
  PsEntry a;
  a.slot = 0;
  a.pid = 4242;
  a.state = "running";
  a.uptime_ms = 1500;
  a.program = "/usr/bin/sleep";
  a.args = {"sleep", "10"};
  a.mapped_bytes = 123456789;
  a.resident_bytes = 4096;
  a.flags = "";
  PsEntry b = a;
  b.slot = 3;
  b.pid = 0;
  b.state = "kept";
  b.args = {};
  b.flags = "keep";
  m.entries = {a, b};
  return m;
}

// A valid message of each type and the number of fds it needs.
inline std::vector<std::pair<Message, size_t>> one_of_each() {
  return {
      {sample_launch(), 4},
      {PsRequest{}, 0},
      {ReleaseRequest{7}, 0},
      {ErrorReply{127, "tp-run: foo: No such file or directory"}, 0},
      {Started{1234, 2}, 1},
      {Exited{Exited::How::kSignaled, 11, true}, 0},
      {PsReply{}, 0},
      {sample_ps_reply(), 0},
  };
}

// Asserts failure with a message containing `needle`.
template <class T>
::testing::AssertionResult fails_with(const Result<T>& r, const std::string& needle) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded; expected \"" << needle << "\"";
  if (r.error().message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "error \"" << r.error().message << "\" lacks \"" << needle << "\"";
  }
  return ::testing::AssertionSuccess();
}

inline size_t open_fd_count() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;  // includes ".", ".." and the DIR's own fd: constant overhead
}

inline UniqueFd open_dev_null() { return UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC)); }

inline bool same_file(int a, int b) {
  struct stat sa, sb;
  if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

inline std::vector<UniqueFd> dev_null_fds(size_t n) {
  std::vector<UniqueFd> fds;
  for (size_t i = 0; i < n; ++i) fds.push_back(open_dev_null());
  return fds;
}

}  // namespace tp::proto::testing
