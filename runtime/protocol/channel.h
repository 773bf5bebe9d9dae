// Socket I/O for the control protocol over a Unix SOCK_SEQPACKET socket:
// one frame per datagram, fds as SCM_RIGHTS on the first frame of a message.
#pragma once

#include <optional>
#include <span>

#include "common/result.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

namespace tp::proto {

// Validates `m` with `fds` (see validate.h), then sends it as frames. `fds`
// stay owned by the caller. Uses MSG_NOSIGNAL (a closed peer is an error, not
// SIGPIPE) and retries EINTR. On a non-blocking socket it waits (poll) for
// room instead of returning EAGAIN: a message cannot be half sent.
Status send_message(int sock, const Message& m, std::span<const int> fds = {});

// Reads datagrams from `sock` into `assembler` until a message is complete.
// Returns the message; or nullopt with *eof = true on an orderly EOF between
// messages; or nullopt with *eof = false when a non-blocking socket has no
// more data yet (call again when it is readable). EOF inside a message, a
// truncated datagram or truncated control data are errors. Received fds are
// close-on-exec and owned from the moment they arrive, so no path leaks one.
Result<std::optional<Received>> recv_message(int sock, MessageAssembler& assembler, bool* eof);

}  // namespace tp::proto
