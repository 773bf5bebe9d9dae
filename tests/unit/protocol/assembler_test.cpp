// MessageAssembler: reassembly, fd ownership and every framing-level refusal.
#include <gtest/gtest.h>

#include "protocol/framing.h"
#include "test_support.h"

namespace tp::proto {
namespace {

using testing::dev_null_fds;
using testing::fails_with;
using testing::open_fd_count;

std::vector<std::vector<uint8_t>> frames_of(const Message& m) {
  return encode_frames(type_of(m), encode_payload(m));
}

TEST(AssemblerTest, SingleFrameMessage) {
  MessageAssembler a;
  auto frames = frames_of(Started{77, 1});
  auto r = a.feed(frames[0], dev_null_fds(1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->msg, Message(Started{77, 1}));
  EXPECT_EQ((*r)->fds.size(), 1u);
  EXPECT_FALSE(a.in_progress());
}

TEST(AssemblerTest, MultiFrameMessageAndThenAnother) {
  LaunchRequest big = testing::sample_launch();
  big.env.push_back("BIG=" + std::string(3 * kMaxFramePayload, 'x'));
  auto frames = frames_of(big);
  ASSERT_EQ(frames.size(), 4u);
  MessageAssembler a;
  auto first = a.feed(frames[0], dev_null_fds(4));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->has_value());
  EXPECT_TRUE(a.in_progress());
  EXPECT_EQ(a.pending_type(), MsgType::kLaunchRequest);
  for (size_t i = 1; i + 1 < frames.size(); ++i) {
    auto mid = a.feed(frames[i], {});
    ASSERT_TRUE(mid.ok()) << mid.error().message;
    EXPECT_FALSE(mid->has_value());
  }
  auto last = a.feed(frames.back(), {});
  ASSERT_TRUE(last.ok()) << last.error().message;
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->msg, Message(big));
  EXPECT_EQ((*last)->fds.size(), 4u);
  EXPECT_EQ(a.buffered_bytes(), 0u);

  auto next = a.feed(frames_of(PsRequest{})[0], {});
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_TRUE(next->has_value());
  EXPECT_TRUE(std::holds_alternative<PsRequest>((*next)->msg));
}

TEST(AssemblerTest, MixedTypesWithinOneMessage) {
  LaunchRequest big = testing::sample_launch();
  big.env.push_back("BIG=" + std::string(kMaxFramePayload, 'x'));
  auto frames = frames_of(big);
  auto other = frames_of(ErrorReply{1, std::string(kMaxFramePayload + 5, 'e')});
  MessageAssembler a;
  ASSERT_TRUE(a.feed(frames[0], dev_null_fds(4)).ok());
  EXPECT_TRUE(
      fails_with(a.feed(other[1], {}), "frame of type ErrorReply inside a LaunchRequest message"));
}

TEST(AssemblerTest, FdsOnANonFirstFrameAreRefusedAndClosed) {
  size_t before = open_fd_count();
  {
    LaunchRequest big = testing::sample_launch();
    big.env.push_back("BIG=" + std::string(kMaxFramePayload, 'x'));
    auto frames = frames_of(big);
    MessageAssembler a;
    ASSERT_TRUE(a.feed(frames[0], dev_null_fds(4)).ok());
    EXPECT_TRUE(fails_with(a.feed(frames[1], dev_null_fds(1)),
                           "1 file descriptors on frame 2 of a LaunchRequest message (only the "
                           "first frame may carry them)"));
    EXPECT_FALSE(a.in_progress());
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(AssemblerTest, TooManyFds) {
  size_t before = open_fd_count();
  MessageAssembler a;
  EXPECT_TRUE(fails_with(a.feed(frames_of(PsRequest{})[0], dev_null_fds(9)),
                         "9 file descriptors on one message exceed 8"));
  EXPECT_EQ(open_fd_count(), before);
}

TEST(AssemblerTest, WrongFdCountIsRefusedAndClosed) {
  size_t before = open_fd_count();
  {
    MessageAssembler a;
    EXPECT_TRUE(fails_with(a.feed(frames_of(testing::sample_launch())[0], dev_null_fds(3)),
                           "LaunchRequest: expected 4 file descriptors, got 3"));
  }
  {
    MessageAssembler a;
    EXPECT_TRUE(fails_with(a.feed(frames_of(Started{1, 1})[0], {}),
                           "Started: expected 1 file descriptors, got 0"));
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(AssemblerTest, OversizeMessage) {
  size_t before = open_fd_count();
  {
    // Frames of a 16 MiB + 1 payload; the assembler must stop at the limit
    // without having been given a valid message.
    std::vector<uint8_t> payload(kMaxMessageBytes + 1, 0);
    auto frames = encode_frames(MsgType::kLaunchRequest, payload);
    MessageAssembler a;
    Result<std::optional<Received>> r = a.feed(frames[0], dev_null_fds(2));
    size_t i = 1;
    for (; r.ok() && i < frames.size(); ++i) r = a.feed(frames[i], {});
    EXPECT_EQ(i, frames.size());
    EXPECT_TRUE(fails_with(r, "LaunchRequest message exceeds 16777216 bytes"));
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(AssemblerTest, ExactlyMaximumSizeIsAccepted) {
  // An ErrorReply whose payload is exactly kMaxMessageBytes.
  ErrorReply m{1, std::string(kMaxMessageBytes - 8, 'x')};
  auto frames = frames_of(m);
  MessageAssembler a;
  Result<std::optional<Received>> r = std::optional<Received>();
  for (auto& f : frames) {
    r = a.feed(f, {});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(std::get<ErrorReply>((*r)->msg).message.size(), kMaxMessageBytes - 8);
}

TEST(AssemblerTest, BadPayloadClosesTheFirstFramesFds) {
  size_t before = open_fd_count();
  {
    LaunchRequest m = testing::sample_launch();
    m.argv[1] = std::string("a\0b", 3);
    MessageAssembler a;
    EXPECT_TRUE(fails_with(a.feed(frames_of(m)[0], dev_null_fds(4)),
                           "LaunchRequest: argv entry 1 has a NUL byte at offset 1"));
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(AssemblerTest, BadHeaderMidMessageClosesPendingFds) {
  size_t before = open_fd_count();
  {
    LaunchRequest big = testing::sample_launch();
    big.env.push_back("BIG=" + std::string(kMaxFramePayload, 'x'));
    auto frames = frames_of(big);
    MessageAssembler a;
    ASSERT_TRUE(a.feed(frames[0], dev_null_fds(4)).ok());
    frames[1][4] = 2;  // version
    EXPECT_TRUE(fails_with(a.feed(frames[1], {}), "protocol version 2 is not supported"));
    EXPECT_EQ(open_fd_count(), before);
  }
}

TEST(AssemblerTest, StaysFailedAfterAnError) {
  MessageAssembler a;
  std::vector<uint8_t> junk(20, 0);
  EXPECT_TRUE(fails_with(a.feed(junk, {}), "bad frame magic"));
  EXPECT_TRUE(a.failed());
  EXPECT_TRUE(fails_with(a.feed(frames_of(PsRequest{})[0], {}),
                         "connection already failed: bad frame magic"));
}

}  // namespace
}  // namespace tp::proto
