#include "launcher/exit_like.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>

namespace tp {

void exit_like(const ExitStatus& status) {
  if (!status.signaled) std::exit(status.value & 0xff);
  int sig = status.value;
  // The program's core (if any) was its own; the launcher must not add one.
  struct rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  struct sigaction sa{};
  sa.sa_handler = SIG_DFL;
  sigaction(sig, &sa, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  raise(sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);  // delivered here if it was blocked
  // Only signals whose default action is to ignore get here; a shell reports 128+N.
  _exit(128 + sig);
}

}  // namespace tp
