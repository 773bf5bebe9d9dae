#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "launcher/program_link.h"

namespace tp {
namespace {

// Every signal the launcher relays: all but those that cannot be caught, the
// child-status signal it needs for itself, and glibc's two internal ones.
sigset_t relayed_set(uint64_t launcher_ignored) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) continue;
    if (launcher_ignored & (1ull << (sig - 1))) continue;  // stays ignored, as for the program
    sigaddset(&set, sig);
  }
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig)
    if (!(launcher_ignored & (1ull << (sig - 1)))) sigaddset(&set, sig);
  return set;
}

bool is_stop_signal(int sig) { return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

// The kernel discards TSTP/TTIN/TTOU for a process group that is orphaned (no
// member has a parent in another group of the same session: no shell could
// resume it). tp-run's group qualifies when its own parent does, as a shell's
// job does; otherwise it cannot stop, and neither would the program natively.
bool can_stop_self() {
  pid_t parent = getppid();
  pid_t parent_group = getpgid(parent);
  return parent_group >= 0 && parent_group != getpgrp() && getsid(parent) == getsid(0);
}

// Stops the launcher with `sig` (so the shell sees a stopped job), returning
// once it is continued.
void stop_self(int sig) {
  struct sigaction dfl{}, old{};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, &old);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  raise(sig);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);  // the stop happens here
  pthread_sigmask(SIG_BLOCK, &one, nullptr);
  sigaction(sig, &old, nullptr);
}

}  // namespace

void block_relayed_signals(uint64_t launcher_ignored) {
  sigset_t set = relayed_set(launcher_ignored);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Result<ExitStatus> relay_until_exit(ProgramLink& link, uint64_t launcher_ignored) {
  sigset_t set = relayed_set(launcher_ignored);
  UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd.valid()) return make_error("signalfd: " + errno_text(errno));
  for (;;) {
    pollfd fds[2] = {{sfd.get(), POLLIN, 0}, {link.poll_fd(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error("poll: " + errno_text(errno));
    }
    if (fds[1].revents) {
      TP_ASSIGN_OR_RETURN(std::optional<ExitStatus> ended, link.on_readable());
      if (ended) return *ended;
    }
    if (!fds[0].revents) continue;
    signalfd_siginfo si;
    while (read(sfd.get(), &si, sizeof si) == ssize_t(sizeof si)) {
      int sig = int(si.ssi_signo);
      bool from_program = si.ssi_code == SI_USER && pid_t(si.ssi_pid) == link.pid();
      bool from_terminal = si.ssi_code == SI_KERNEL;
      if (is_stop_signal(sig) && can_stop_self()) {
        link.send_signal(SIGSTOP);
        stop_self(sig);
        continue;
      }
      if (from_program) continue;  // kill(0, sig) by the program reached us too
      if (from_terminal && link.shares_process_group()) continue;  // it got its own copy
      link.send_signal(sig);
    }
  }
}

}  // namespace tp
