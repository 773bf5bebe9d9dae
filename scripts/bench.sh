#!/usr/bin/env bash
# Installs what is missing, builds with benchmarks on, runs every benchmark and
# writes docs/benchmarks.md: the machine, each benchmark's exact command and its
# table (medians and ratios, every comparison run side by side in one run).
#   TP_BENCH_ROUNDS (launch, default 200), TP_BENCH_MEM_ROUNDS (default 10),
#   TP_BENCH_XFREE_ROUNDS (default 7); TP_BENCH_OUT (default docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTP_BUILD_BENCH=ON -DTP_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j2 >&2
export TP_RUNTIME_DIR=${TP_RUNTIME_DIR:-$(mktemp -d /tmp/tp-bench.XXXXXX)}
out=${TP_BENCH_OUT:-docs/benchmarks.md}
bin=build-bench/runtime/tools
progs=build-bench/bench/programs
mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0

# Runs one benchmark: its title, the exact command, its table, then notes.
bench() {
  local title=$1 notes=$2
  shift 2
  {
    echo
    echo "## $title"
    echo
    echo "\`$*\`"
    echo
    "$@"
    [[ -z "$notes" ]] || { echo; echo "$notes"; }
  } | tee -a "$out.tmp"
}

cat > "$out.tmp" <<HEADER
# Benchmarks

Written by \`scripts/bench.sh\` (the one command that builds and runs all of them); every table
compares its variants side by side in one run, interleaved round by round, so that the machine's
drift hits all of them alike. Medians; ratios against the first row unless a column says
otherwise.

Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),
$(free -g | awk '/Mem:/{print $2}') GiB, Linux $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"),
glibc $(ldd --version | head -1 | awk '{print $NF}'). Run on $(date -u +%Y-%m-%d), load average at
start $(cut -d' ' -f1 /proc/loadavg).
HEADER

bench "Launch latency (hello world, dynamic PIE)" \
"Where the time goes: \`tp-run\` is a second program to start on every launch (its own exec and
dynamic loading, a few hundred µs), the launch crosses processes (launcher → host → program →
host → launcher: each hop wakes a task on the other CPU, tens of µs on an idle VM), and every
\`mmap\`, \`munmap\` and \`brk\` that ld.so and mimalloc make in the program is performed by
the host (about 10 µs each; a dynamic hello with the space's allocator makes a few dozen).
The private space additionally reserves its arena and starts its supervisor threads. Threadprocs loses here, by design: it pays at launch for what it saves at hand-off." \
  build-bench/bench/launch_latency "$bin/tp-run" "$bin/tp-space" "$progs/bench_hello" "${TP_BENCH_ROUNDS:-200}"

rounds=${TP_BENCH_MEM_ROUNDS:-10}
bench "Small malloc/free: threadproc vs normal process" \
"Goal (issue 3): a threadproc allocates at least as fast as a normal process (the original
threadprocs project forced \`MALLOC_MMAP_THRESHOLD_=0\` and was 1157x slower). The space's
allocator is mimalloc, so the fair comparison for the default is native mimalloc; with
\`--private-heap\` it is native glibc, whose main arena then grows and trims through the
emulated per-slot break, each move of it a trapped call (which is why a glibc program that
grows and frees its heap in bulk can be a few percent slower)." \
  build-bench/bench/malloc_compare "$bin/tp-run" "$progs/bench_malloc" "$rounds" "$mimalloc"
bench "mmap-heavy program: supervised (threadproc) vs not" \
"Threadprocs loses here: every trapped call is a round trip to the host's supervisor (a
seccomp user notification), about 10 µs where the kernel alone takes 1–6 µs. Page faults,
\`mprotect\` and \`madvise\` are not trapped and cost the same. Programs that map and unmap in
a tight loop pay it on every call; allocators that keep their memory (mimalloc, glibc's
arenas) pay it rarely." \
  build-bench/bench/mmap_compare "$bin/tp-run" "$progs/bench_mmap" "$rounds"
bench "Cross-program free rate" \
"Goal (issue 3): at least 10M cross-program frees per second. Both sides use the same
mimalloc build; a block freed by another program goes onto its page's atomic thread-free
list, which the owner collects." \
  build-bench/bench/cross_free_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_cross_free" \
  "$mimalloc" "${TP_BENCH_XFREE_ROUNDS:-7}"
bench "Memory supervisor bookkeeping per trapped call vs live mappings in the slot" \
"CPU time of the supervisor's own bookkeeping (Google Benchmark), which must not grow with the
number of mappings a program holds: both the used ranges and the free gaps (indexed by size)
are kept, so each operation is O(log n)." \
  build-bench/bench/slot_map_micro

mv "$out.tmp" "$out"
echo "bench.sh: wrote $out" >&2
