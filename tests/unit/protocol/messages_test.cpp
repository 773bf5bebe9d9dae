// Payload codec: round trips, the exact byte layout, and parse failures.
#include "protocol/messages.h"

#include <gtest/gtest.h>

#include "protocol/wire.h"
#include "test_support.h"

namespace tp::proto {
namespace {

using testing::fails_with;
using testing::one_of_each;

TEST(MessagesTest, EveryTypeRoundTrips) {
  for (auto& [msg, fds] : one_of_each()) {
    SCOPED_TRACE(type_name(type_of(msg)));
    std::vector<uint8_t> bytes = encode_payload(msg);
    auto back = decode_payload(type_of(msg), bytes, fds);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, msg);
    EXPECT_EQ(expected_fd_count(msg), fds);
  }
}

TEST(MessagesTest, TypeOfAndNames) {
  EXPECT_EQ(type_of(Message(LaunchRequest{})), MsgType::kLaunchRequest);
  EXPECT_EQ(type_of(Message(PsReply{})), MsgType::kPsReply);
  EXPECT_EQ(type_name(MsgType::kExited), "Exited");
  EXPECT_EQ(type_name(static_cast<MsgType>(99)), "type 99");
  EXPECT_EQ(msg_type_from_wire(17), MsgType::kStarted);
  EXPECT_FALSE(msg_type_from_wire(0).has_value());
  EXPECT_FALSE(msg_type_from_wire(4).has_value());
  EXPECT_FALSE(msg_type_from_wire(99).has_value());
}

TEST(MessagesTest, ExpectedFdCountFollowsStdioMask) {
  LaunchRequest m;
  m.stdio_mask = 0;
  EXPECT_EQ(expected_fd_count(m), 2u);
  m.stdio_mask = 0x7;
  EXPECT_EQ(expected_fd_count(m), 5u);
  m.stdio_mask = 0x2;
  EXPECT_EQ(expected_fd_count(m), 3u);
}

// Pins the wire layout: the launcher and host may be built at different times.
TEST(MessagesTest, GoldenBytes) {
  EXPECT_EQ(encode_payload(Started{0x01020304, 5}),
            (std::vector<uint8_t>{4, 3, 2, 1, 5, 0, 0, 0}));
  EXPECT_EQ(encode_payload(Exited{Exited::How::kSignaled, 9, true}),
            (std::vector<uint8_t>{1, 9, 0, 0, 0, 1}));
  EXPECT_EQ(encode_payload(ReleaseRequest{0x11223344}),
            (std::vector<uint8_t>{0x44, 0x33, 0x22, 0x11}));
  EXPECT_EQ(encode_payload(ErrorReply{126, "no"}),
            (std::vector<uint8_t>{126, 0, 0, 0, 2, 0, 0, 0, 'n', 'o'}));
  EXPECT_TRUE(encode_payload(PsRequest{}).empty());

  LaunchRequest l;
  l.flags = LaunchRequest::kKeepSlot;
  l.exec_path = "/x";
  l.argv = {"x"};
  l.env = {};
  l.sigmask = 1;
  l.ignored = 2;
  l.umask = 022;
  l.rlimits = {{4, 5, 6}};
  l.stdio_mask = 7;
  std::vector<uint8_t> want = {
      2, 0, 0, 0,                                   // flags
      2, 0, 0, 0, '/', 'x',                         // exec_path
      1, 0, 0, 0, 1, 0, 0, 0, 'x',                  // argv
      0, 0, 0, 0,                                   // env
      1, 0, 0, 0, 0, 0, 0, 0,                       // sigmask
      2, 0, 0, 0, 0, 0, 0, 0,                       // ignored
      022, 0, 0, 0,                                 // umask
      1, 0, 0, 0,                                   // rlimit count
      4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0,
      7, 0, 0, 0,                                   // stdio_mask
  };
  EXPECT_EQ(encode_payload(l), want);
}

TEST(MessagesTest, EveryStrictPrefixIsTruncated) {
  for (auto& [msg, fds] : one_of_each()) {
    SCOPED_TRACE(type_name(type_of(msg)));
    std::vector<uint8_t> bytes = encode_payload(msg);
    for (size_t len = 0; len < bytes.size(); ++len) {
      auto r = decode_payload(type_of(msg), std::span(bytes).first(len), fds);
      // Either a field is cut short, or a count no longer fits what is left.
      ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes";
      const std::string& e = r.error().message;
      EXPECT_TRUE(e.find("truncated at ") != std::string::npos ||
                  e.find("bytes left can hold") != std::string::npos)
          << e;
    }
  }
}

TEST(MessagesTest, TrailingBytesAreRejected) {
  for (auto& [msg, fds] : one_of_each()) {
    SCOPED_TRACE(type_name(type_of(msg)));
    std::vector<uint8_t> bytes = encode_payload(msg);
    bytes.push_back(0);
    EXPECT_TRUE(fails_with(decode_payload(type_of(msg), bytes, fds),
                           type_name(type_of(msg)) + ": 1 trailing bytes after the last field"));
  }
}

TEST(MessagesTest, UnknownTypeIsRejected) {
  std::vector<uint8_t> none;
  EXPECT_TRUE(fails_with(decode_payload(static_cast<MsgType>(99), none, 0),
                         "unknown message type 99"));
}

TEST(MessagesTest, TruncatedFieldIsNamed) {
  std::vector<uint8_t> bytes = encode_payload(testing::sample_launch());
  bytes.resize(bytes.size() - 2);  // cut into stdio_mask
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kLaunchRequest, bytes, 4),
                         "LaunchRequest: truncated at stdio_mask: needs 4 bytes, 2 left"));
}

TEST(MessagesTest, ArgvCountTooLarge) {
  WireWriter w;
  w.u32(0);
  w.str("/bin/x");
  w.u32(1000);  // argv count, but only 8 bytes follow
  w.u64(0);
  std::vector<uint8_t> bytes = std::move(w).take();
  EXPECT_TRUE(
      fails_with(decode_payload(MsgType::kLaunchRequest, bytes, 2),
                 "LaunchRequest: argv count 1000 is larger than the 8 bytes left can hold"));
}

TEST(MessagesTest, RlimitCountBeyondSixteenIsRejected) {
  LaunchRequest m = testing::sample_launch();
  m.rlimits.clear();
  for (uint32_t i = 0; i < 17; ++i) m.rlimits.push_back({i, 0, 0});
  std::vector<uint8_t> bytes = encode_payload(m);
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kLaunchRequest, bytes, 4),
                         "LaunchRequest: rlimits count 17 exceeds 16"));
}

TEST(MessagesTest, RlimitCountIsCheckedAgainstRemainingBytes) {
  LaunchRequest m = testing::sample_launch();
  std::vector<uint8_t> bytes = encode_payload(m);
  bytes.resize(bytes.size() - 4 - 8);  // drop stdio_mask and the last rlimit's max
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kLaunchRequest, bytes, 4),
                         "rlimits count 2 is larger than"));
}

TEST(MessagesTest, PsEntriesCountTooLarge) {
  WireWriter w;
  w.str("s");
  w.u32(4);
  w.u64(1);
  w.u64(2);
  w.u32(2);  // two entries claimed, room for one minimal entry only
  for (int i = 0; i < 48; ++i) w.u8(0);
  std::vector<uint8_t> bytes = std::move(w).take();
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kPsReply, bytes, 0),
                         "PsReply: entries count 2 is larger than the 48 bytes left can hold"));
}

TEST(MessagesTest, PsEntryTruncationNamesTheEntry) {
  PsReply m = testing::sample_ps_reply();
  std::vector<uint8_t> bytes = encode_payload(m);
  bytes.resize(bytes.size() - 1);
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kPsReply, bytes, 0),
                         "PsReply: truncated at entries[1].flags"));
}

TEST(MessagesTest, BooleanByteMustBeZeroOrOne) {
  std::vector<uint8_t> bytes = {1, 9, 0, 0, 0, 2};
  EXPECT_TRUE(fails_with(decode_payload(MsgType::kExited, bytes, 0),
                         "Exited: core_dumped is 2 (must be 0 or 1)"));
}

TEST(MessagesTest, EmptyPayloadPsRequest) {
  std::vector<uint8_t> none;
  auto r = decode_payload(MsgType::kPsRequest, none, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::holds_alternative<PsRequest>(*r));
}

TEST(MessagesTest, LargeLaunchRequestRoundTrips) {
  LaunchRequest m = testing::sample_launch();
  m.argv.clear();
  for (int i = 0; i < 100000; ++i) m.argv.push_back("arg" + std::to_string(i));
  std::vector<uint8_t> bytes = encode_payload(m);
  auto back = decode_payload(MsgType::kLaunchRequest, bytes, 4);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, Message(m));
}

}  // namespace
}  // namespace tp::proto
