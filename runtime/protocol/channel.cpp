#include "protocol/channel.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/errno_text.h"
#include "protocol/validate.h"

namespace tp::proto {
namespace {

// Room for kMaxFdsPerMessage fds plus credentials, so a socket with
// SO_PASSCRED does not turn every fd-carrying frame into MSG_CTRUNC. (Up to
// 8 more fds then fit too; the assembler rejects them with a clear message.)
constexpr size_t kControlBytes =
    CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage) + CMSG_SPACE(sizeof(struct ucred));

union ControlBuffer {
  struct cmsghdr align;  // cmsg headers must be aligned like cmsghdr
  char bytes[kControlBytes];
};

Status wait_writable(int sock) {
  struct pollfd p = {sock, POLLOUT, 0};
  while (poll(&p, 1, -1) < 0) {
    if (errno != EINTR) {
      return make_error("poll on the control socket failed: " + errno_text(errno));
    }
  }
  return ok_status();
}

Status send_frame(int sock, std::span<const uint8_t> header, std::span<const uint8_t> chunk,
                  std::span<const int> fds) {
  struct iovec iov[2] = {
      {const_cast<uint8_t*>(header.data()), header.size()},
      {const_cast<uint8_t*>(chunk.data()), chunk.size()},
  };
  ControlBuffer control;
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = chunk.empty() ? 1 : 2;
  if (!fds.empty()) {
    std::memset(&control, 0, sizeof control);
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  const size_t total = header.size() + chunk.size();
  for (;;) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      // SOCK_SEQPACKET sends a datagram whole or not at all.
      if (static_cast<size_t>(n) != total) {
        return make_error("sendmsg sent " + std::to_string(n) + " of " + std::to_string(total) +
                          " bytes (is the control socket SOCK_SEQPACKET?)");
      }
      return ok_status();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      TP_TRY(wait_writable(sock));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return make_error("the peer closed the control socket");
    }
    return make_error("sendmsg on the control socket failed: " + errno_text(errno));
  }
}

enum class RecvOutcome { kDatagram, kEof, kWouldBlock };

// Receives one datagram into `buf` (its size in *len) and its fds.
Result<RecvOutcome> recv_datagram(int sock, std::span<uint8_t> buf, size_t* len,
                                  std::vector<UniqueFd>* fds) {
  ControlBuffer control;
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  ssize_t n;
  for (;;) {
    msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return RecvOutcome::kWouldBlock;
    if (errno == ECONNRESET) return make_error("the peer reset the control socket");
    return make_error("recvmsg on the control socket failed: " + errno_text(errno));
  }
  // Take ownership of every fd before looking at anything else, so the error
  // returns below close them.
  if (msg.msg_controllen > 0) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* data = CMSG_DATA(c);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
        fds->emplace_back(fd);
      }
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    return make_error("control data of a datagram was truncated (more than " +
                      std::to_string(kMaxFdsPerMessage) + " file descriptors sent?)");
  }
  if (msg.msg_flags & MSG_TRUNC) {
    return make_error("datagram larger than " + std::to_string(kMaxDatagramBytes) +
                      " bytes was truncated");
  }
  // A SOCK_SEQPACKET peer's close reads as 0. A zero-length datagram looks the
  // same; no frame is that short, so treating it as EOF loses nothing.
  if (n == 0) return RecvOutcome::kEof;
  *len = static_cast<size_t>(n);
  return RecvOutcome::kDatagram;
}

}  // namespace

Status send_message(int sock, const Message& m, std::span<const int> fds) {
  if (fds.size() > kMaxFdsPerMessage) {
    return make_error(std::to_string(fds.size()) + " file descriptors on one message exceed " +
                      std::to_string(kMaxFdsPerMessage));
  }
  for (int fd : fds) {
    if (fd < 0) return make_error("cannot send file descriptor " + std::to_string(fd));
  }
  TP_TRY(validate_message(m, fds.size()));
  const MsgType type = type_of(m);
  const std::vector<uint8_t> payload = encode_payload(m);
  if (payload.size() > kMaxMessageBytes) {
    return make_error(type_name(type) + " of " + std::to_string(payload.size()) +
                      " bytes exceeds the " + std::to_string(kMaxMessageBytes) +
                      "-byte message limit");
  }
  bool first = true;
  for (const FrameSlice& f : split_into_frames(type, payload)) {
    // Fds ride on the first frame only: that is where the receiver takes them.
    TP_TRY(send_frame(sock, f.header, f.chunk, first ? fds : std::span<const int>()));
    first = false;
  }
  return ok_status();
}

Result<std::optional<Received>> recv_message(int sock, MessageAssembler& assembler, bool* eof) {
  *eof = false;
  // Uninitialised: a host may call this for every readable event.
  auto storage = std::make_unique_for_overwrite<uint8_t[]>(kMaxDatagramBytes);
  std::span<uint8_t> buf(storage.get(), kMaxDatagramBytes);
  for (;;) {
    size_t len = 0;
    std::vector<UniqueFd> fds;
    TP_ASSIGN_OR_RETURN(RecvOutcome outcome, recv_datagram(sock, buf, &len, &fds));
    switch (outcome) {
      case RecvOutcome::kWouldBlock:
        return std::optional<Received>();
      case RecvOutcome::kEof:
        if (assembler.in_progress()) {
          return make_error("the peer closed the control socket in the middle of a " +
                            type_name(*assembler.pending_type()) + " message (" +
                            std::to_string(assembler.buffered_bytes()) + " bytes received)");
        }
        *eof = true;
        return std::optional<Received>();
      case RecvOutcome::kDatagram:
        break;
    }
    TP_ASSIGN_OR_RETURN(std::optional<Received> got,
                        assembler.feed(buf.first(len), std::move(fds)));
    if (got) return got;
  }
}

}  // namespace tp::proto
