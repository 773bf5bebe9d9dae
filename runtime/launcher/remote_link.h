// The program of a named space, reached through its host: the exit status
// comes over the launcher's connection, signals go straight to the program's
// pidfd (which the host passed along with Started).
#pragma once

#include <string>

#include "common/unique_fd.h"
#include "launcher/program_link.h"
#include "protocol/framing.h"

namespace tp {

class RemoteLink final : public ProgramLink {
 public:
  RemoteLink(std::string space, UniqueFd sock, UniqueFd pidfd, pid_t pid)
      : space_(std::move(space)), sock_(std::move(sock)), pidfd_(std::move(pidfd)), pid_(pid) {}
  pid_t pid() const override { return pid_; }
  int poll_fd() const override { return sock_.get(); }
  Result<std::optional<ExitStatus>> on_readable() override;
  void send_signal(int sig) override;
  bool shares_process_group() const override { return false; }

 private:
  std::string space_;
  UniqueFd sock_, pidfd_;
  pid_t pid_;
  proto::MessageAssembler assembler_;
};

}  // namespace tp
