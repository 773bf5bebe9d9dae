#include "protocol/framing.h"

#include <algorithm>
#include <cstdio>

#include "protocol/wire.h"

namespace tp::proto {

std::array<uint8_t, kFrameHeaderBytes> encode_frame_header(const FrameHeader& h) {
  WireWriter w;
  w.u32(kFrameMagic);
  w.u16(kProtocolVersion);
  w.u16(static_cast<uint16_t>(h.type));
  w.u32(h.flags);
  w.u32(h.length);
  std::vector<uint8_t> bytes = std::move(w).take();
  std::array<uint8_t, kFrameHeaderBytes> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Result<FrameHeader> decode_frame_header(std::span<const uint8_t> datagram) {
  if (datagram.size() < kFrameHeaderBytes) {
    return make_error("datagram of " + std::to_string(datagram.size()) +
                      " bytes is shorter than the " + std::to_string(kFrameHeaderBytes) +
                      "-byte frame header");
  }
  WireReader r(datagram.first(kFrameHeaderBytes), "frame header");
  // The header is exactly 16 bytes, so none of these reads can fail.
  uint32_t magic = r.u32({"magic"}).value();
  uint16_t version = r.u16({"version"}).value();
  uint16_t type = r.u16({"type"}).value();
  FrameHeader h;
  h.flags = r.u32({"flags"}).value();
  h.length = r.u32({"length"}).value();

  if (magic != kFrameMagic) {
    char buf[96];
    snprintf(buf, sizeof buf, "bad frame magic 0x%08x (expected 0x%08x, \"TPP1\")", magic,
             kFrameMagic);
    return make_error(buf);
  }
  // Checked before anything else in the header: a later version may lay it out differently.
  if (version != kProtocolVersion) {
    return make_error("protocol version " + std::to_string(version) +
                      " is not supported (this host speaks " +
                      std::to_string(kProtocolVersion) + ")");
  }
  std::optional<MsgType> known = msg_type_from_wire(type);
  if (!known) return make_error("unknown message type " + std::to_string(type));
  h.type = *known;
  if (h.flags & ~kFrameMore) {
    char buf[96];
    snprintf(buf, sizeof buf, "frame flags 0x%x have undefined bits set (only MORE=0x1 exists)",
             h.flags);
    return make_error(buf);
  }
  if (h.length > kMaxFramePayload) {
    return make_error("frame payload length " + std::to_string(h.length) + " exceeds " +
                      std::to_string(kMaxFramePayload));
  }
  size_t actual = datagram.size() - kFrameHeaderBytes;
  if (h.length != actual) {
    return make_error("frame payload length " + std::to_string(h.length) +
                      " does not match the " + std::to_string(actual) +
                      " bytes after the header");
  }
  // A sender always puts payload in a non-final frame; empty ones could only
  // keep a connection busy without progress.
  if (h.more() && h.length == 0) return make_error("empty frame with MORE set");
  return h;
}

std::vector<FrameSlice> split_into_frames(MsgType type, std::span<const uint8_t> payload) {
  std::vector<FrameSlice> frames;
  size_t offset = 0;
  do {
    size_t chunk = std::min(kMaxFramePayload, payload.size() - offset);
    bool more = offset + chunk < payload.size();
    FrameHeader h{type, more ? kFrameMore : 0, static_cast<uint32_t>(chunk)};
    frames.push_back({encode_frame_header(h), payload.subspan(offset, chunk)});
    offset += chunk;
  } while (offset < payload.size());
  return frames;
}

std::vector<std::vector<uint8_t>> encode_frames(MsgType type, std::span<const uint8_t> payload) {
  std::vector<std::vector<uint8_t>> out;
  for (const FrameSlice& f : split_into_frames(type, payload)) {
    std::vector<uint8_t> datagram(f.header.begin(), f.header.end());
    datagram.insert(datagram.end(), f.chunk.begin(), f.chunk.end());
    out.push_back(std::move(datagram));
  }
  return out;
}

Error MessageAssembler::fail(Error e) {
  failure_ = e.message;
  pending_.reset();
  buffer_ = {};
  fds_.clear();  // closes them
  return e;
}

Result<std::optional<Received>> MessageAssembler::feed(std::span<const uint8_t> datagram,
                                                       std::vector<UniqueFd> fds) {
  if (failure_) return make_error("connection already failed: " + *failure_);
  auto header = decode_frame_header(datagram);
  if (!header.ok()) return fail(header.take_error());
  const FrameHeader& h = *header;

  if (fds.size() > kMaxFdsPerMessage) {
    return fail(make_error(std::to_string(fds.size()) + " file descriptors on one message exceed " +
                           std::to_string(kMaxFdsPerMessage)));
  }
  if (pending_) {
    if (h.type != *pending_) {
      return fail(make_error("frame of type " + type_name(h.type) + " inside a " +
                             type_name(*pending_) + " message"));
    }
    // Fds belong to the message, and only the first frame says which message
    // that is; later ones could pair fds with the wrong request.
    if (!fds.empty()) {
      return fail(make_error(std::to_string(fds.size()) + " file descriptors on frame " +
                             std::to_string(frames_ + 1) + " of a " + type_name(h.type) +
                             " message (only the first frame may carry them)"));
    }
  } else {
    pending_ = h.type;
    frames_ = 0;
    buffer_.clear();
    fds_ = std::move(fds);
  }
  ++frames_;

  if (buffer_.size() + h.length > kMaxMessageBytes) {
    return fail(make_error(type_name(h.type) + " message exceeds " +
                           std::to_string(kMaxMessageBytes) + " bytes"));
  }
  std::span<const uint8_t> payload = datagram.subspan(kFrameHeaderBytes);
  buffer_.insert(buffer_.end(), payload.begin(), payload.end());
  if (h.more()) return std::optional<Received>();

  auto msg = decode_payload(h.type, buffer_, fds_.size());
  if (!msg.ok()) return fail(msg.take_error());
  Received out{std::move(msg).value(), std::move(fds_)};
  fds_.clear();  // moved-from: make it definitely empty
  pending_.reset();
  // Do not keep up to 16 MiB of capacity around after one large message.
  if (buffer_.capacity() > kMaxFramePayload) {
    buffer_ = {};
  } else {
    buffer_.clear();
  }
  return std::optional<Received>(std::move(out));
}

}  // namespace tp::proto
