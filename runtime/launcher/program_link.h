// How a launcher reaches the program it stands in for: directly (a private
// space hosted by tp-run itself) or through the host of a named space.
#pragma once

#include <sys/types.h>

#include <optional>

#include "common/result.h"
#include "space/exit_status.h"

namespace tp {

class ProgramLink {
 public:
  virtual ~ProgramLink() = default;
  virtual pid_t pid() const = 0;
  // Polled for readability; then on_readable() says whether the program ended.
  virtual int poll_fd() const = 0;
  virtual Result<std::optional<ExitStatus>> on_readable() = 0;
  virtual void send_signal(int sig) = 0;
  // True when the program is in the launcher's process group, so that it
  // receives the terminal's signals (Ctrl-C) itself.
  virtual bool shares_process_group() const = 0;
};

// Relays signals to the program and returns how it ended. Every catchable
// signal is forwarded, except those the terminal already delivered to a
// program in our process group and those the program sent to its own group.
// TSTP/TTIN/TTOU stop the program, then the launcher itself (when the
// launcher's process group is orphaned they are forwarded like any other: the
// kernel would not stop either of them).
Result<ExitStatus> relay_until_exit(ProgramLink& link, uint64_t launcher_ignored);

// Blocks every signal the relay forwards (call before launching, so that none
// is lost in between; the program gets the original mask from the plan).
void block_relayed_signals(uint64_t launcher_ignored);

}  // namespace tp
