// The semantic rules of each message, separate from the byte layout: the
// decoder applies them to what it received, and send_message() applies them
// before sending, so a sender learns about a bad message with the same words
// the peer would use.
#pragma once

#include <cstddef>

#include "common/result.h"
#include "protocol/messages.h"

namespace tp::proto {

// Checks every field of `m` and that `fd_count` fds accompany it.
Status validate_message(const Message& m, size_t fd_count);

}  // namespace tp::proto
