#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. g++ -Werror build: unit tests, integration tests (real programs through tp-run)
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. libFuzzer smoke runs (clang) of every parser of untrusted input
# Environment: TP_FUZZ_SECONDS (default 15) per fuzzer; TP_TEST_STAGES to pick
# stages (default "release asan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

stages=${TP_TEST_STAGES:-release asan fuzz}
fuzz_seconds=${TP_FUZZ_SECONDS:-15}
start=$(date +%s)
stage() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

for s in $stages; do
  case $s in
    release)
      stage "release build (g++, -Werror)"
      cmake -S . -B build-test -DTP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build build-test -j2
      stage "release tests"
      ctest --test-dir build-test --output-on-failure -j2
      ;;
    asan)
      stage "ASan+UBSan build"
      cmake -S . -B build-asan -DTP_WERROR=ON -DTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
      cmake --build build-asan -j2
      stage "ASan+UBSan tests"
      # verify_asan_link_order=0: tests run the (sanitized) launcher with a user's
      # LD_PRELOAD in its environment, which ASan would otherwise refuse.
      # The host's flat-footprint checks (10,000 launches, 1,000 programs alive)
      # run in the release stage: ASan's own allocator maps its size-class
      # regions lazily, so the host's mapping count under ASan says nothing
      # about the runtime, and the 1,000-program test takes a minute there.
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:verify_asan_link_order=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan --output-on-failure -j2 -E 'ThousandsOfSequentialLaunches|TenThousandLaunches|ThousandProgramsAlive'
      ;;
    fuzz)
      stage "fuzzers (clang, libFuzzer + ASan + UBSan)"
      cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        -DTP_BUILD_FUZZERS=ON -DTP_BUILD_SAMPLES=OFF -DTP_WERROR=ON -DTP_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
      cmake --build build-fuzz -j2 --target tp_fuzzers
      stage "fuzz smoke runs (${fuzz_seconds} s each)"
      ctest --test-dir build-fuzz --output-on-failure -L fuzz
      ;;
    *) echo "test.sh: unknown stage '$s' (use release, asan, fuzz)" >&2; exit 2 ;;
  esac
done
stage "all stages passed: $stages"
