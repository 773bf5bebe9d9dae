# ctest script: runs a program and checks its exit status and output.
#   cmake -DPROGRAM=<path> [-DARG_LIST=a|b c] -DEXPECT_RC=<n> [-DEXPECT_OUTPUT=<regex>] -P run_expect.cmake
# (ARG_LIST separates arguments with '|', so that they may hold spaces.)
string(REPLACE "|" ";" ARGS "${ARG_LIST}")
execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${PROGRAM} exited with ${rc}\nstdout:\n${out}stderr:\n${err}")
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit status ${EXPECT_RC}, got ${rc}")
endif()
if(DEFINED EXPECT_OUTPUT AND NOT out MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the output does not match: ${EXPECT_OUTPUT}")
endif()
