// Frame header codec and splitting a payload into frames.
#include "protocol/framing.h"

#include <gtest/gtest.h>

#include "protocol/wire.h"
#include "test_support.h"

namespace tp::proto {
namespace {

using testing::fails_with;

// A datagram with a hand-written header and `payload_bytes` zero bytes.
std::vector<uint8_t> datagram(uint32_t magic, uint16_t version, uint16_t type, uint32_t flags,
                              uint32_t length, size_t payload_bytes) {
  WireWriter w;
  w.u32(magic);
  w.u16(version);
  w.u16(type);
  w.u32(flags);
  w.u32(length);
  std::vector<uint8_t> out = std::move(w).take();
  out.resize(out.size() + payload_bytes);
  return out;
}

TEST(FramingTest, HeaderGoldenBytes) {
  auto h = encode_frame_header({MsgType::kExited, kFrameMore, 0x0102});
  std::array<uint8_t, 16> want = {'T', 'P', 'P', '1', 1, 0, 18, 0, 1, 0, 0, 0, 2, 1, 0, 0};
  EXPECT_EQ(h, want);
}

TEST(FramingTest, HeaderRoundTrips) {
  std::vector<uint8_t> d = datagram(kFrameMagic, 1, 19, kFrameMore, 5, 5);
  auto h = decode_frame_header(d);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->type, MsgType::kPsReply);
  EXPECT_TRUE(h->more());
  EXPECT_EQ(h->length, 5u);
}

TEST(FramingTest, ShortDatagram) {
  std::vector<uint8_t> d(15);
  EXPECT_TRUE(fails_with(decode_frame_header(d),
                         "datagram of 15 bytes is shorter than the 16-byte frame header"));
}

TEST(FramingTest, BadMagic) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(0x32505054, 1, 1, 0, 0, 0)),
                         "bad frame magic 0x32505054 (expected 0x31505054, \"TPP1\")"));
}

TEST(FramingTest, BadVersion) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 2, 1, 0, 0, 0)),
                         "protocol version 2 is not supported (this host speaks 1)"));
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 0, 1, 0, 0, 0)),
                         "protocol version 0 is not supported"));
}

TEST(FramingTest, UnknownType) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 99, 0, 0, 0)),
                         "unknown message type 99"));
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 0, 0, 0, 0)),
                         "unknown message type 0"));
}

TEST(FramingTest, UndefinedFlagBits) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 2, 0x3, 1, 1)),
                         "frame flags 0x3 have undefined bits set"));
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 2, 0x80000000, 0, 0)),
                         "frame flags 0x80000000"));
}

TEST(FramingTest, LengthAboveFrameMaximum) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 1, 0, 70000, 100)),
                         "frame payload length 70000 exceeds 61440"));
}

TEST(FramingTest, LengthMismatch) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 1, 0, 100, 40)),
                         "frame payload length 100 does not match the 40 bytes after the header"));
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 1, 0, 4, 5)),
                         "frame payload length 4 does not match the 5 bytes"));
}

TEST(FramingTest, EmptyFrameWithMore) {
  EXPECT_TRUE(fails_with(decode_frame_header(datagram(kFrameMagic, 1, 1, kFrameMore, 0, 0)),
                         "empty frame with MORE set"));
}

TEST(FramingTest, MaximumFrameIsAccepted) {
  auto h = decode_frame_header(datagram(kFrameMagic, 1, 1, 0, kMaxFramePayload, kMaxFramePayload));
  EXPECT_TRUE(h.ok());
}

TEST(FramingTest, EncodeFramesSplitsAtTheFrameMaximum) {
  std::vector<uint8_t> payload(2 * kMaxFramePayload + 10, 0xab);
  auto frames = encode_frames(MsgType::kLaunchRequest, payload);
  ASSERT_EQ(frames.size(), 3u);
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < frames.size(); ++i) {
    auto h = decode_frame_header(frames[i]);
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_EQ(h->more(), i + 1 < frames.size());
    EXPECT_EQ(h->type, MsgType::kLaunchRequest);
    joined.insert(joined.end(), frames[i].begin() + 16, frames[i].end());
  }
  EXPECT_EQ(frames[0].size(), kMaxDatagramBytes);
  EXPECT_EQ(frames[2].size(), 16u + 10u);
  EXPECT_EQ(joined, payload);
}

TEST(FramingTest, EncodeFramesExactMultipleHasNoEmptyTail) {
  std::vector<uint8_t> payload(kMaxFramePayload, 1);
  auto frames = encode_frames(MsgType::kPsReply, payload);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(decode_frame_header(frames[0])->more());
}

TEST(FramingTest, EmptyPayloadIsOneFrame) {
  auto frames = encode_frames(MsgType::kPsRequest, {});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), 16u);
  EXPECT_TRUE(decode_frame_header(frames[0]).ok());
}

}  // namespace
}  // namespace tp::proto
