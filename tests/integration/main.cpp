// Integration tests: real programs through tp-run and tp-space, compared with native runs.
// TP_IT_NATIVE=1 runs the programs directly instead (see fixture.h).
#include <signal.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "fixture.h"

int main(int argc, char** argv) {
  // Writing a command's stdin after it exited must give EPIPE, not kill the test runner.
  signal(SIGPIPE, SIG_IGN);
  testing::InitGoogleTest(&argc, argv);
  std::fprintf(stderr, "threadprocs integration tests: %s\n",
               tpit::native_mode() ? "TP_IT_NATIVE=1, programs run directly (no tp-run)"
                                   : ("through " + tpit::tp_run_path()).c_str());
  return RUN_ALL_TESTS();
}
