#!/usr/bin/env bash
# Installs what is missing, builds with benchmarks on, and runs them. Each
# benchmark prints a Markdown table; docs/benchmarks.md records the results
# together with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTP_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j2
export TP_RUNTIME_DIR=${TP_RUNTIME_DIR:-$(mktemp -d /tmp/tp-bench.XXXXXX)}
bin=build-bench/runtime/tools
echo "## Launch latency (hello world, dynamic PIE)"
build-bench/bench/launch_latency "$bin/tp-run" "$bin/tp-space" build-bench/tests/programs/hello "${TP_BENCH_ROUNDS:-200}"
