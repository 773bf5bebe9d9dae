// Reaching a named space from a launcher or from tp-space: connecting to its
// socket, and starting its host in the background when none runs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace tp {

struct SpaceAddress {
  std::string name;
  std::string dir;  // the runtime directory
};

// Connects to the space's socket; ExitCode::kNotFound-free errors: a missing
// or stale socket is reported as "not running" (see is_not_running).
Result<UniqueFd> connect_space(const SpaceAddress& addr);
bool is_not_running(const Error& e);

// Connects, starting the host with `tp-space start` (from `tp_space_path`,
// with `start_args` such as --slots) when the space does not run. Safe when
// several launchers race to start the same space.
Result<UniqueFd> connect_or_start_space(const SpaceAddress& addr, const std::string& tp_space_path,
                                        const std::vector<std::string>& start_args);

// The host's pid, from the socket's peer credentials.
Result<pid_t> peer_pid(int sock);

// The directory this executable lives in (to find tp-space beside tp-run).
std::string own_directory();

}  // namespace tp
