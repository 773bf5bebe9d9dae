#!/usr/bin/env bash
# Installs what is missing, builds with benchmarks on, and runs them. Each
# benchmark prints a Markdown table; docs/benchmarks.md records the results
# together with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTP_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2 >&2
export TP_RUNTIME_DIR=${TP_RUNTIME_DIR:-$(mktemp -d /tmp/tp-bench.XXXXXX)}
bin=build-bench/runtime/tools
echo "## Launch latency (hello world, dynamic PIE)"
build-bench/bench/launch_latency "$bin/tp-run" "$bin/tp-space" build-bench/bench/programs/bench_hello "${TP_BENCH_ROUNDS:-200}"

# Runs one benchmark command after its title and the exact command line.
bench() {
  local title=$1
  shift
  echo
  echo "## $title"
  echo
  echo "\`$*\`"
  echo
  "$@"
}
rounds=${TP_BENCH_MEM_ROUNDS:-10}
progs=build-bench/bench/programs
bench "Small malloc/free: threadproc vs normal process" \
  build-bench/bench/malloc_compare "$bin/tp-run" "$progs/bench_malloc" "$rounds" \
  /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0
bench "mmap-heavy program: supervised (threadproc) vs not" \
  build-bench/bench/mmap_compare "$bin/tp-run" "$progs/bench_mmap" "$rounds"
bench "Cross-program free rate" \
  build-bench/bench/cross_free_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_cross_free" \
  /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0 "${TP_BENCH_XFREE_ROUNDS:-7}"
bench "Memory supervisor bookkeeping per trapped call vs live mappings in the slot" \
  build-bench/bench/slot_map_micro
