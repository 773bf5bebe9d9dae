#include "launcher/private_link.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace tp {

Result<std::optional<ExitStatus>> PrivateLink::on_readable() {
  auto status = space_.collect(program_);
  (void)space_.reclaim(program_);
  if (!status.ok()) return status.take_error();
  return std::optional<ExitStatus>(*status);
}

void PrivateLink::send_signal(int sig) { syscall(SYS_pidfd_send_signal, program_.pidfd.get(), sig, nullptr, 0); }

}  // namespace tp
