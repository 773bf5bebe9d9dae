#include "launcher/launcher_state.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tp {

LauncherState capture_launcher_state() {
  LauncherState s;
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  for (int sig = 1; sig <= 64; ++sig) {
    if (sigismember(&mask, sig) == 1) s.blocked |= 1ull << (sig - 1);
    struct sigaction sa;
    if (sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) s.ignored |= 1ull << (sig - 1);
  }
  mode_t m = umask(0);
  umask(m);
  s.umask = uint32_t(m);
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    struct rlimit lim;
    if (getrlimit(__rlimit_resource(r), &lim) == 0) s.rlimits.push_back({uint32_t(r), lim.rlim_cur, lim.rlim_max});
  }
  for (int fd = 0; fd < 3; ++fd) {
    s.stdio_open[fd] = fcntl(fd, F_GETFD) != -1;
    if (!s.stdio_open[fd]) {
      int null = open("/dev/null", O_RDWR);  // lands on `fd`, the lowest free number
      if (null != fd && null >= 0) close(null);
    }
  }
  return s;
}

void apply_launcher_state(const LauncherState& state, LaunchSpec& spec) {
  spec.blocked = state.blocked;
  spec.ignored = state.ignored;
  spec.umask = state.umask;
  spec.rlimits = state.rlimits;
  for (int fd = 0; fd < 3; ++fd) spec.stdio[fd] = state.stdio_open[fd] ? fd : -1;
}

}  // namespace tp
