// The program of a private space, hosted by tp-run itself.
#pragma once

#include "launcher/program_link.h"
#include "space/space.h"

namespace tp {

class PrivateLink final : public ProgramLink {
 public:
  PrivateLink(Space& space, LaunchedProgram program) : space_(space), program_(std::move(program)) {}
  pid_t pid() const override { return program_.pid; }
  int poll_fd() const override { return program_.pidfd.get(); }
  Result<std::optional<ExitStatus>> on_readable() override;
  void send_signal(int sig) override;
  bool shares_process_group() const override { return true; }

 private:
  Space& space_;
  LaunchedProgram program_;
};

}  // namespace tp
