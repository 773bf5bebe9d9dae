// What the launcher captured of its own process at start-up, before it
// changed anything: the state a program started by the shell would inherit.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "space/space.h"

namespace tp {

struct LauncherState {
  uint64_t blocked = 0;  // signal mask
  uint64_t ignored = 0;  // signals at SIG_IGN
  uint32_t umask = 022;
  std::vector<RlimitSpec> rlimits;
  std::array<bool, 3> stdio_open{};  // fds 0..2 were open
};

// Captures the state and, for each closed stdio fd, opens /dev/null in its
// place so that nothing else the launcher opens lands on 0, 1 or 2.
LauncherState capture_launcher_state();

// The state as a LaunchSpec's inherited fields (stdio as fds 0..2 or -1).
void apply_launcher_state(const LauncherState& state, LaunchSpec& spec);

}  // namespace tp
