#!/usr/bin/env bash
# Installs what is missing, builds Threadprocs and runs the main demo: one
# program puts a std::string in a named space and prints its address; another
# program, started separately, reads the string through that pointer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tp-run tp-space string_put string_get

bin=build/runtime/tools
samples=build/samples/shared_string
export TP_RUNTIME_DIR=${TP_RUNTIME_DIR:-$(mktemp -d /tmp/tp-demo.XXXXXX)}
trap '"$bin/tp-space" stop demo >/dev/null 2>&1 || true' EXIT

echo "== program A (pid of its own, slot of its own) allocates a std::string and prints its address"
coproc WRITER { "$bin/tp-run" --space demo "$samples/string_put" "hello from program A"; }
read -r addr <&"${WRITER[0]}"
echo "   A says: $addr"
echo "== the space while A waits:"
"$bin/tp-space" ps demo
echo "== program B, started separately in the same space, reads the string at that address"
"$bin/tp-run" --space demo "$samples/string_get" "$addr"
wait "$WRITER_PID"
echo "== both programs exited normally (A's exit status: $?)"

