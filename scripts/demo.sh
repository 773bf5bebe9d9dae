#!/usr/bin/env bash
# Installs what is missing, builds Threadprocs and runs the main demo: one
# program puts a std::string in a named space and prints its address; another
# program, started separately, reads the string through that pointer. Then two
# slot-aware programs find each other by name and hand over a std::unordered_map.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target tp-run tp-space string_put string_get map_producer map_consumer

bin=build/runtime/tools
samples=build/samples/shared_string
export TP_RUNTIME_DIR=${TP_RUNTIME_DIR:-$(mktemp -d /tmp/tp-demo.XXXXXX)}
trap '"$bin/tp-space" stop demo >/dev/null 2>&1 || true' EXIT

echo "== program A (pid of its own, slot of its own) allocates a std::string and prints its address"
coproc WRITER { "$bin/tp-run" --space demo "$samples/string_put" "hello from program A"; }
writer_pid=$WRITER_PID  # bash unsets WRITER_PID once the coprocess has ended
read -r addr <&"${WRITER[0]}"
echo "   A says: $addr"
echo "== the space while A waits:"
"$bin/tp-space" ps demo
echo "== program B, started separately in the same space, reads the string at that address"
"$bin/tp-run" --space demo "$samples/string_get" "$addr"
wait "$writer_pid"
echo "== both programs exited normally (A's exit status: $?)"


echo
echo "== slot-aware programs: the producer exports a map of 100,000 entries as producer/table;"
echo "   the consumer waits for that name, reads every entry through the pointer and frees the map"
maps=build/samples/map_handoff
"$bin/tp-run" --space demo "$maps/map_producer" &
producer=$!
"$bin/tp-run" --space demo "$maps/map_consumer"
wait "$producer"
echo "== both ended normally; nothing was copied or serialized"
