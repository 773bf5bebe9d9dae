// Where spaces keep their sockets, locks and logs: $TP_RUNTIME_DIR, else
// $XDG_RUNTIME_DIR/threadprocs, else /tmp/threadprocs-$UID; always a 0700
// directory owned by the user, so no other user can reach a space's socket.
#pragma once

#include <string>

#include "common/result.h"

namespace tp {

std::string runtime_dir();
// Creates the directory if needed; refuses one owned by another user or open
// to group/others.
Status ensure_runtime_dir(const std::string& dir);
// Space names are file names: [A-Za-z0-9._-], 1 to 64 characters, no leading dot.
Status validate_space_name(const std::string& name);

struct SpacePaths {
  std::string socket, lock, log;
};
SpacePaths space_paths(const std::string& dir, const std::string& name);

}  // namespace tp
