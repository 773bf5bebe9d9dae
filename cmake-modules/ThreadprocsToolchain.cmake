# A toolchain file that makes every executable of a project slot-aware:
#   cmake -DCMAKE_TOOLCHAIN_FILE=<prefix>/lib/cmake/Threadprocs/ThreadprocsToolchain.cmake ...
# Every link goes through tp-link (shared libraries and objects pass through
# it unchanged). Opt one target out with threadprocs_ordinary_executable(t)
# (after find_package(Threadprocs)) or by clearing its C/CXX_LINKER_LAUNCHER.
# Installed: <prefix>/<libdir>/cmake/Threadprocs (libdir may be lib/<multiarch>);
# build tree: <build>/cmake-modules.
get_filename_component(_tp_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT EXISTS "${_tp_prefix}/bin/tp-link")
  get_filename_component(_tp_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
endif()
find_program(THREADPROCS_TP_LINK tp-link
  HINTS "${_tp_prefix}/bin" "${CMAKE_CURRENT_LIST_DIR}/../runtime/tools"
  NO_DEFAULT_PATH)
if(NOT THREADPROCS_TP_LINK)
  find_program(THREADPROCS_TP_LINK tp-link REQUIRED)
endif()
set(CMAKE_C_LINKER_LAUNCHER "${THREADPROCS_TP_LINK};--cc" CACHE STRING "tp-link links every executable")
set(CMAKE_CXX_LINKER_LAUNCHER "${THREADPROCS_TP_LINK};--cc" CACHE STRING "tp-link links every executable")
# So that find_package(Threadprocs) finds the same installation.
list(APPEND CMAKE_PREFIX_PATH "${_tp_prefix}")
