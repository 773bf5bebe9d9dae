#include "launcher/remote_link.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "protocol/channel.h"

namespace tp {

Result<std::optional<ExitStatus>> RemoteLink::on_readable() {
  bool eof = false;
  auto got = proto::recv_message(sock_.get(), assembler_, &eof);
  if (!got.ok()) return make_error("space " + space_ + ": " + got.error().message);
  if (!got->has_value()) {
    if (!eof) return std::optional<ExitStatus>();
    // No made-up status: the host died before it could say how the program ended.
    return make_error("space " + space_ + ": the host ended before the program (pid " + std::to_string(pid_) +
                      "); its exit status is unknown");
  }
  const proto::Message& msg = (*got)->msg;
  if (const auto* exited = std::get_if<proto::Exited>(&msg)) {
    ExitStatus s;
    s.signaled = exited->how == proto::Exited::How::kSignaled;
    s.value = int(exited->value);
    s.core_dumped = exited->core_dumped;
    return std::optional<ExitStatus>(s);
  }
  if (const auto* err = std::get_if<proto::ErrorReply>(&msg))
    return make_error(err->message, ExitCode(err->exit_code));
  return make_error("space " + space_ + ": unexpected " + proto::type_name(proto::type_of(msg)) + " from the host");
}

void RemoteLink::send_signal(int sig) { syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0); }

}  // namespace tp
