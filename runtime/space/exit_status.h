// How a program ended, as the launcher must reproduce it.
#pragma once

#include <signal.h>
#include <sys/wait.h>

namespace tp {

struct ExitStatus {
  bool signaled = false;  // killed by `value`, else exited with `value`
  int value = 0;
  bool core_dumped = false;
};

// From waitid()'s siginfo (si_code CLD_EXITED / CLD_KILLED / CLD_DUMPED).
inline ExitStatus exit_status_from(const siginfo_t& info) {
  ExitStatus s;
  s.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
  s.core_dumped = info.si_code == CLD_DUMPED;
  s.value = info.si_status;
  return s;
}

}  // namespace tp
