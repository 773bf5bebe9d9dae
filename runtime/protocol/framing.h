// Frames: how a message travels in SOCK_SEQPACKET datagrams. Pure functions
// and an incremental assembler, with no I/O, so the fuzzers can drive them.
//
// Each datagram is one frame: a 16-byte header
//   u32 magic "TPP1" | u16 version | u16 type | u32 flags | u32 length
// followed by `length` payload bytes. A message is the concatenation of the
// payloads of consecutive frames up to the first one without kFrameMore.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "protocol/messages.h"

namespace tp::proto {

inline constexpr uint32_t kFrameMagic = 0x31505054;  // "TPP1" read as little-endian
inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 16;
// Keeps each datagram well below the default socket send buffer (212992), so
// a frame never fails with EMSGSIZE on a default-configured system.
inline constexpr size_t kMaxFramePayload = 60 * 1024;
inline constexpr size_t kMaxDatagramBytes = kFrameHeaderBytes + kMaxFramePayload;
// An assembled message; bounds what one peer can make the other buffer.
inline constexpr size_t kMaxMessageBytes = 16 * 1024 * 1024;
// A LaunchRequest carries the most: image, cwd and three stdio fds.
inline constexpr size_t kMaxFdsPerMessage = 8;
inline constexpr uint32_t kFrameMore = 1u << 0;  // more frames of this message follow

struct FrameHeader {
  MsgType type = MsgType::kPsRequest;
  uint32_t flags = 0;
  uint32_t length = 0;  // payload bytes in this frame
  bool more() const { return (flags & kFrameMore) != 0; }
};

std::array<uint8_t, kFrameHeaderBytes> encode_frame_header(const FrameHeader& h);
// Checks magic, version, type, flags and that `length` is exactly the rest of
// the datagram (a SOCK_SEQPACKET datagram has exact boundaries, so any
// difference is a broken or hostile peer).
Result<FrameHeader> decode_frame_header(std::span<const uint8_t> datagram);

// One frame of a message: its header and a view of its part of the payload.
struct FrameSlice {
  std::array<uint8_t, kFrameHeaderBytes> header;
  std::span<const uint8_t> chunk;
};
// Splits `payload` into frames of at most kMaxFramePayload bytes (at least
// one, even for an empty payload); the chunks point into `payload`.
std::vector<FrameSlice> split_into_frames(MsgType type, std::span<const uint8_t> payload);
// The same frames as self-contained datagrams (for tests and fuzz seeds).
std::vector<std::vector<uint8_t>> encode_frames(MsgType type, std::span<const uint8_t> payload);

struct Received {
  Message msg;
  std::vector<UniqueFd> fds;  // in wire order, close-on-exec
};

// Reassembles messages from frames. Fds passed in are owned from the call on,
// so every error path closes them. A protocol error leaves the assembler
// failed: the frames that follow would be read out of context, so the caller
// must drop the connection (every later feed() repeats the first error).
class MessageAssembler {
 public:
  // Returns a message when `datagram` completes one, nullopt when more frames
  // are needed.
  Result<std::optional<Received>> feed(std::span<const uint8_t> datagram,
                                       std::vector<UniqueFd> fds);

  bool in_progress() const { return pending_.has_value(); }
  // Type and payload bytes of a partially received message (for EOF errors).
  std::optional<MsgType> pending_type() const { return pending_; }
  size_t buffered_bytes() const { return buffer_.size(); }
  bool failed() const { return failure_.has_value(); }

 private:
  Error fail(Error e);

  std::optional<MsgType> pending_;
  size_t frames_ = 0;  // frames of the pending message so far
  std::vector<uint8_t> buffer_;
  std::vector<UniqueFd> fds_;
  std::optional<std::string> failure_;
};

}  // namespace tp::proto
