// Semantic rules, checked through decode_payload (what a receiver sees) and
// validate_message (what a sender sees); both must use the same words.
#include "protocol/validate.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tp::proto {
namespace {

using testing::fails_with;
using testing::sample_launch;
using testing::sample_ps_reply;

// Encodes `m` and decodes it again with `fds` fds, expecting `needle`; also
// checks that validate_message says the same before sending.
::testing::AssertionResult rejected(const Message& m, size_t fds, const std::string& needle) {
  std::vector<uint8_t> bytes = encode_payload(m);
  auto decoded = decode_payload(type_of(m), bytes, fds);
  ::testing::AssertionResult on_decode = fails_with(decoded, needle);
  if (!on_decode) return on_decode << " (decode)";
  ::testing::AssertionResult on_send = fails_with(validate_message(m, fds), needle);
  if (!on_send) return on_send << " (validate)";
  return ::testing::AssertionSuccess();
}

TEST(ValidateTest, SamplesAreValid) {
  for (auto& [msg, fds] : testing::one_of_each()) {
    EXPECT_TRUE(validate_message(msg, fds).ok()) << type_name(type_of(msg));
  }
}

TEST(ValidateTest, LaunchReservedFlags) {
  LaunchRequest m = sample_launch();
  m.flags = 0x8 | LaunchRequest::kVerbose;
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: reserved flag bits 0x8 are set"));
}

TEST(ValidateTest, LaunchExecPath) {
  LaunchRequest m = sample_launch();
  m.exec_path = "";
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: exec_path is empty"));
  m.exec_path = std::string("/bin/a\0b", 8);
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: exec_path has a NUL byte at offset 6"));
  m.exec_path = "/" + std::string(kMaxExecPathBytes, 'a');
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: exec_path of 4096 bytes exceeds 4095"));
  m.exec_path = std::string(kMaxExecPathBytes, 'a');
  EXPECT_TRUE(validate_message(m, 4).ok());
}

TEST(ValidateTest, LaunchArgv) {
  LaunchRequest m = sample_launch();
  m.argv = {};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: argv is empty"));
  m.argv = {"prog", std::string("a\0b", 3)};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: argv entry 1 has a NUL byte at offset 1"));
}

TEST(ValidateTest, LaunchEnv) {
  LaunchRequest m = sample_launch();
  m.env = {"A=1", "B=2", "C=3", "NOEQUALS"};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: env entry 3 has no '='"));
  m.env = {std::string("A=\0", 3)};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: env entry 0 has a NUL byte at offset 2"));
}

TEST(ValidateTest, LaunchSignalMasks) {
  LaunchRequest m = sample_launch();
  m.sigmask = uint64_t{1} << (9 - 1);  // SIGKILL
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: sigmask blocks SIGKILL or SIGSTOP"));
  m = sample_launch();
  m.ignored = uint64_t{1} << (19 - 1);  // SIGSTOP
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: ignored includes SIGKILL or SIGSTOP"));
  m = sample_launch();
  m.sigmask = ~(uint64_t{1} << 8 | uint64_t{1} << 18);  // everything else, up to signal 64
  EXPECT_TRUE(validate_message(m, 4).ok());
}

TEST(ValidateTest, LaunchUmask) {
  LaunchRequest m = sample_launch();
  m.umask = 01000;
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: umask 01000 exceeds 0777"));
  m.umask = 0777;
  EXPECT_TRUE(validate_message(m, 4).ok());
}

TEST(ValidateTest, LaunchRlimits) {
  LaunchRequest m = sample_launch();
  m.rlimits = {{16, 0, 0}};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: rlimit 0 has resource 16 (must be < 16)"));
  m.rlimits = {{7, 1, 2}, {3, 1, 2}, {7, 1, 2}};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: rlimit 2 repeats resource 7"));
  m.rlimits = {{7, 5, 4}};
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: rlimit 0 (resource 7) has cur 5 above max 4"));
  m.rlimits.clear();
  for (uint32_t i = 0; i < 16; ++i) m.rlimits.push_back({i, 1, ~uint64_t{0}});
  EXPECT_TRUE(validate_message(m, 4).ok());
  m.rlimits.push_back({0, 0, 0});
  // The decoder stops at the count; validation, on the sending side, too.
  EXPECT_TRUE(fails_with(validate_message(m, 4), "LaunchRequest: 17 rlimits exceed 16"));
}

TEST(ValidateTest, LaunchStdioMaskAndFdCount) {
  LaunchRequest m = sample_launch();
  m.stdio_mask = 0x8;
  EXPECT_TRUE(rejected(m, 2, "LaunchRequest: stdio_mask 0x8 has bits other than 0..2"));
  m.stdio_mask = 0x7;
  EXPECT_TRUE(rejected(m, 4, "LaunchRequest: expected 5 file descriptors, got 4"));
  EXPECT_TRUE(rejected(m, 6, "LaunchRequest: expected 5 file descriptors, got 6"));
  m.stdio_mask = 0;
  EXPECT_TRUE(rejected(m, 0, "LaunchRequest: expected 2 file descriptors, got 0"));
  EXPECT_TRUE(validate_message(m, 2).ok());
}

TEST(ValidateTest, FdsOnMessagesThatTakeNone) {
  EXPECT_TRUE(rejected(PsRequest{}, 1, "PsRequest: expected 0 file descriptors, got 1"));
  EXPECT_TRUE(rejected(ReleaseRequest{1}, 2, "ReleaseRequest: expected 0 file descriptors, got 2"));
  EXPECT_TRUE(rejected(ErrorReply{1, "x"}, 1, "ErrorReply: expected 0 file descriptors"));
  EXPECT_TRUE(rejected(Exited{}, 1, "Exited: expected 0 file descriptors"));
  EXPECT_TRUE(rejected(sample_ps_reply(), 1, "PsReply: expected 0 file descriptors"));
}

TEST(ValidateTest, ErrorReply) {
  EXPECT_TRUE(rejected(ErrorReply{0, "x"}, 0, "ErrorReply: exit_code 0 is outside 1..255"));
  EXPECT_TRUE(rejected(ErrorReply{256, "x"}, 0, "ErrorReply: exit_code 256 is outside 1..255"));
  EXPECT_TRUE(rejected(ErrorReply{1, std::string("a\0", 2)}, 0,
                       "ErrorReply: message has a NUL byte at offset 1"));
  EXPECT_TRUE(validate_message(ErrorReply{255, ""}, 0).ok());
}

TEST(ValidateTest, Started) {
  EXPECT_TRUE(rejected(Started{0, 1}, 1, "Started: pid 0 is not a valid pid"));
  EXPECT_TRUE(rejected(Started{0x80000000u, 1}, 1, "Started: pid 2147483648 is not a valid pid"));
  EXPECT_TRUE(rejected(Started{5, 1}, 0, "Started: expected 1 file descriptors, got 0"));
}

TEST(ValidateTest, Exited) {
  using How = Exited::How;
  EXPECT_TRUE(validate_message(Exited{How::kExited, 0, false}, 0).ok());
  EXPECT_TRUE(validate_message(Exited{How::kExited, 255, false}, 0).ok());
  EXPECT_TRUE(validate_message(Exited{How::kSignaled, 64, false}, 0).ok());
  EXPECT_TRUE(
      rejected(Exited{How::kExited, 256, false}, 0, "Exited: exit code 256 is outside 0..255"));
  EXPECT_TRUE(
      rejected(Exited{How::kExited, 0, true}, 0, "Exited: core_dumped is set on a normal exit"));
  EXPECT_TRUE(rejected(Exited{How::kSignaled, 0, false}, 0, "Exited: signal 0 is outside 1..64"));
  EXPECT_TRUE(rejected(Exited{How::kSignaled, 65, false}, 0, "Exited: signal 65 is outside 1..64"));
  EXPECT_TRUE(rejected(Exited{static_cast<How>(2), 1, false}, 0,
                       "Exited: how 2 is neither 0 (exited) nor 1 (signaled)"));
}

TEST(ValidateTest, PsReply) {
  PsReply m = sample_ps_reply();
  m.entries[1].slot = 4;
  EXPECT_TRUE(rejected(m, 0, "PsReply: entry 1 names slot 4 but the space has 4 slots"));
  m = sample_ps_reply();
  m.entries[1].slot = 0;
  EXPECT_TRUE(rejected(m, 0, "PsReply: slot 0 is listed twice"));
  m = sample_ps_reply();
  m.entries[0].args[1] = std::string("1\0", 2);
  EXPECT_TRUE(rejected(m, 0, "PsReply: entry 0 arg 1 has a NUL byte at offset 1"));
  m = sample_ps_reply();
  m.space_name = std::string("\0", 1);
  EXPECT_TRUE(rejected(m, 0, "PsReply: space_name has a NUL byte at offset 0"));
  m = sample_ps_reply();
  m.entries[0].program = std::string("p\0", 2);
  EXPECT_TRUE(rejected(m, 0, "PsReply: entry 0 program has a NUL byte"));
}

}  // namespace
}  // namespace tp::proto
