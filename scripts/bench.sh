#!/usr/bin/env bash
# The one command for the benchmarks: installs what is missing, builds
# build-bench (Release, TP_BUILD_BENCH=ON), runs every benchmark and rewrites
# docs/benchmarks.md (the machine, each benchmark's exact command, its tables of
# medians and ratios, every comparison run side by side in one run, and a
# closing note with the headline ratios) and docs/img/handoff.png (gnuplot).
#
# Knobs (defaults in brackets):
#   TP_BENCH_ROUNDS         launch latency rounds [200]
#   TP_BENCH_MEM_ROUNDS     malloc and mmap rounds [10]
#   TP_BENCH_XFREE_ROUNDS   cross-program free rounds [7]
#   TP_BENCH_HANDOFF_SIZES, TP_BENCH_HANDOFF_RUNS  map sizes and runs per size
#                           [1000,10000,100000,1000000 and 21,21,11,7]
#   TP_BENCH_RING_ROUNDS    pointer ring rounds [11]
#   TP_BENCH_MUTEX_ROUNDS   shared lock rounds [11]
#   TP_BENCH_MANY           programs alive at once [1000], TP_BENCH_MANY_ROUNDS [3]
#   TP_BENCH_OUT            the page to write [docs/benchmarks.md]; the plot goes
#                           to img/handoff.png next to it
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
scripts/deps.sh --bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTP_BUILD_BENCH=ON -DTP_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j2 >&2

own_runtime_dir=
if [[ -z "${TP_RUNTIME_DIR:-}" ]]; then
  own_runtime_dir=$(mktemp -d /tmp/tp-bench.XXXXXX)
  export TP_RUNTIME_DIR=$own_runtime_dir
fi
work=$(mktemp -d /tmp/tp-bench-out.XXXXXX)
export TP_BENCH_SUMMARY=$work/summary.md
out=${TP_BENCH_OUT:-docs/benchmarks.md}
img_dir=$(dirname "$out")/img
bin=build-bench/runtime/tools
progs=build-bench/bench/programs
mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0

# Whatever happens, no benchmark space, program or shared-memory segment
# outlives the run (each driver also stops its own space and kills its
# children when it fails).
cleanup() {
  local names
  [[ -z "${sampler:-}" ]] || kill "$sampler" 2>/dev/null || true
  names=$("$bin/tp-space" list --json 2>/dev/null | grep -o '"name":"bench-[^"]*"' | cut -d'"' -f4 || true)
  for s in $names; do "$bin/tp-space" stop "$s" >/dev/null 2>&1 || true; done
  rm -f /dev/shm/tp-bench-* /tmp/tp-bench-handoff-*.sock
  rm -rf "$work"
  [[ -z "$own_runtime_dir" ]] || rm -rf "$own_runtime_dir"
}
trap cleanup EXIT

# How quiet the machine was: the CPU time other processes used meanwhile
# (bench/cpu_share; everything this script starts carries TP_BENCH_RUN).
export TP_BENCH_RUN="$$-$(date +%s%N)"
build-bench/bench/cpu_share "TP_BENCH_RUN=$TP_BENCH_RUN" > "$work/cpu_share.txt" &
sampler=$!
bench_started=$(date +%s)
load0=$(cut -d' ' -f1 /proc/loadavg)

# Runs one benchmark: the exact command, its table(s), then notes.
bench() {
  local notes=$1
  shift
  {
    echo
    echo "\`$*\`"
    echo
    "$@"
    [[ -z "$notes" ]] || { echo; echo "$notes"; }
  } | tee -a "$work/body.md"
}
section() {
  { printf '\n## %s\n' "$1"; [[ -z "$2" ]] || printf '\n%s\n' "$2"; } | tee -a "$work/body.md"
}
subsection() { printf '\n### %s\n' "$1" | tee -a "$work/body.md"; }

# ---- (a) the map handoff -------------------------------------------------
section "(a) Handing a std::unordered_map from one program to another" \
"Program A builds a \`std::unordered_map<std::string, std::string>\` (keys of 21 bytes, values of
39: both beyond \`std::string\`'s inline buffer) and hands it to program B, which reads every
byte of every key and value and checks the count and an order-independent checksum against
A's. Building the map is not the handoff: A builds it and checksums it first, in every
variant. The clock (CLOCK_MONOTONIC, one clock for the machine) starts when A starts handing
over (before serializing, before creating the Boost segment, before sending the pointer) and
stops in B: **usable** when B holds a map it can use, **read** when B has read every entry.

- **threads**: two threads of one process; A sends the map's 8-byte address.
- **threadprocs**: A and B are two programs of one space (\`tp-run --space NAME A\`,
  \`tp-run --space NAME B\`); A sends the 8-byte address, B reads A's map in place and then
  deletes it (cross-program free, reported separately below).
- **Boost.Interprocess**: A creates a \`managed_shared_memory\` segment and copies every entry
  into a \`boost::unordered_map\` of \`boost::interprocess::basic_string\`s with the segment's
  allocators (pre-sized buckets), all counted; B opens the segment, finds the map and reads it in
  place.
- **serialization**: length-prefixed entries, streamed: A serializes into 256 KiB chunks and
  writes each while B reads and deserializes the previous ones into its own
  \`std::unordered_map\` (reserved to the count), so both CPUs work at once.

The same Unix stream socket joins A and B in all four. B sleeps while A builds its map; before
starting the clock, A sends B one byte and waits for B's answer, so that both are awake on their
CPUs when the handoff begins; from then on both sides poll the socket (non-blocking,
\`sched_yield\` while empty). So the times measure the handoff, not how long the scheduler takes
to wake a sleeping task (50–120 µs on this VM) or to give a long-polling task its CPU back on a
busy machine. A is pinned to the first CPU and B to the second (\`sched_setaffinity\`;
bench/programs/pin.h), in every variant. All four use the same allocator,
mimalloc 2.0.9 (the space's; preloaded in the ordinary processes), so that the only difference is
the handoff itself. The variants run interleaved, the order rotating each round; each run is a
fresh pair of processes (programs)."
mkdir -p "$img_dir"
bench "" build-bench/bench/handoff_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_handoff" "$mimalloc" \
  "$img_dir/handoff.dat" "${TP_BENCH_HANDOFF_SIZES:-1000,10000,100000,1000000}" "${TP_BENCH_HANDOFF_RUNS:-21,21,11,7}"
if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$img_dir/handoff.dat'; outfile='$img_dir/handoff.png'" bench/handoff.gp
  plot="![Handoff time against map size: threads, threadprocs, Boost.Interprocess, serialization](img/handoff.png)

The plot (\`gnuplot -e \"datafile='$img_dir/handoff.dat'; outfile='$img_dir/handoff.png'\" bench/handoff.gp\`,
from the medians above, which handoff_compare wrote to [img/handoff.dat](img/handoff.dat)): left,
until B holds a usable map; right, until B has read every entry."
else
  echo "bench.sh: gnuplot not found: no plot (scripts/deps.sh --bench installs gnuplot-nox)" >&2
  plot="(No plot: gnuplot was not installed when this page was written; \`scripts/deps.sh --bench\`
installs \`gnuplot-nox\`.)"
fi
printf '\n%s\n' "$plot" | tee -a "$work/body.md"
printf '\n%s\n' "What the numbers say. Handing over a pointer costs the same whatever the size of
the map: one message on a socket, a few µs, as between two threads (the two columns differ by a
microsecond or so on a quiet machine; on a busy one, by whatever the other load happens to cost
a run). Every alternative copies the whole map, so it grows with the map:
Boost.Interprocess copies each entry into the segment (its allocator and offset pointers make it
slower than the heap), serialization copies each entry twice and through the kernel. Once B has
also read every entry, the pointer handoff's lead shrinks to what the copy costs over a read: B
then pays the same cache misses walking A's map as a copy's builder paid, and a deserialized map
is laid out in iteration order, which its reader walks faster than A's map, whose nodes lie in
insertion order. Freeing A's map from B (cross-program free) costs what it costs between two
threads: each block goes back to its owner's page through mimalloc's thread-free list." \
  | tee -a "$work/body.md"

# ---- (b) pointer ring ----------------------------------------------------
section "(b) Pointer ring: messages per second" \
"A fixed single-producer single-consumer ring of 1024 pointers, the same code between two threads
and between two programs of a space: the producer allocates each message with \`new\` (a 64-byte
payload, or 4 KiB), fills it and pushes its address; the consumer pops it, reads and checks the
whole payload and \`delete\`s it (between threadprocs: memory another program allocated). The
copying alternative between two ordinary processes is a ring of 1024 message slots in POSIX
shared memory (\`shm_open\`): the producer copies each message into a slot, the consumer copies
it out and reads it. Both sides poll (\`sched_yield\` when the ring is empty or full), the
producer pinned to the first CPU and the consumer to the second, in every variant (unpinned, runs
were bimodal: two sides that the scheduler happens to put on one CPU pass messages faster than
two that run at once on two); the rate is measured by the consumer from its first message to its
last. On this VM the absolute cross-CPU rates of all
variants move together from one run of the script to the next (seen: 63M and 10M messages/s for
the pointer ring, 28M and 5M frees/s for the cross-program free); the ratios between variants
of one run stay put, which is why every comparison here is made within one run."
bench "Threadprocs does not make a small flat message cheaper to move: a ring that copies it through
shared memory allocates nothing, while every message of a pointer ring is an allocation in one
program and a free in the other, so for 64-byte messages the copying ring wins; as messages grow,
copying each one twice costs more (the 4 KiB column). What a pointer ring gives is the rate of
threads for messages that are not flat (a string, a tree, a map), which a copying ring could
only carry serialized, as in (a). Threads and threadprocs run the same code with the same
allocator build; one difference remains: each program has its own instance of the allocator (its
own globals), where two threads share one. We have not established whether that is why two
threadprocs can come out ahead of two threads here. Each side spins on its own CPU of the two:
any other load on the machine lands on one of them and shows in these rates more than in any
other table." \
  build-bench/bench/ring_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_ring" "$mimalloc" \
  "${TP_BENCH_RING_ROUNDS:-11}"

# ---- (c) shared lock -----------------------------------------------------
section "(c) Shared lock: a std::mutex contended by two programs" \
"Two sides take one \`std::mutex\` 5,000,000 times each to increment a shared counter (checked at
the end: exactly 2 x 5,000,000, so mutual exclusion held). Between threadprocs the mutex lives in
the first program's heap and the second finds it by address. A default \`std::mutex\` shared by
two *single-threaded* programs is not correct (docs/limitations.md: glibc >= 2.35 takes and
releases a process-private mutex with plain stores when it believes its process has one thread,
and each program of a space has its own glibc), so it is not measured. The two correct ways are:
re-initialising the mutex's \`native_handle()\` with \`PTHREAD_PROCESS_SHARED\` (what the user
guide and samples/mutex_condvar do; glibc then always uses atomics and shared futexes), or
making each program multi-threaded before it touches the mutex (here: each starts and joins one
thread; glibc never returns to its single-thread path, and a private futex is keyed by the
address space, which the programs share). Both are measured, and the process-shared mutex
between two threads too, to separate the cost of the lock kind from that of being two programs.
The first side is pinned to the first CPU, the second to the second, in every variant."
bench "A lock contended by two programs of a space costs what the same kind of lock costs between two
threads: the futex is the same word in the same address space, and the kernel sees the same
calls. Any gap between the process-shared and the default rows is the kind of lock (glibc's
shared-futex path), and it shows between two threads as well." build-bench/bench/mutex_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_mutex" \
  "${TP_BENCH_MUTEX_ROUNDS:-11}" 5000000

# ---- (d) malloc/free and cross-program free --------------------------------
section "(d) Memory allocation: malloc/free in a threadproc, and cross-program free" ""
rounds=${TP_BENCH_MEM_ROUNDS:-10}
subsection "Small malloc/free: threadproc vs normal process"
bench "Goal (issue 3): a threadproc allocates at least as fast as a normal process (the original
threadprocs project forced \`MALLOC_MMAP_THRESHOLD_=0\` and was 1157x slower). The space's
allocator is mimalloc, so the fair comparison for the default is native mimalloc; with
\`--private-heap\` it is native glibc, whose main arena then grows and trims through the
emulated per-slot break, each move of it a trapped call (which is why a glibc program that
grows and frees its heap in bulk can be a few percent slower)." \
  build-bench/bench/malloc_compare "$bin/tp-run" "$progs/bench_malloc" "$rounds" "$mimalloc"
subsection "Cross-program free rate"
bench "Goal (issue 3): at least 10M cross-program frees per second. Both sides use the same
mimalloc build; a block freed by another program goes onto its page's atomic thread-free
list, which the owner collects. The producer is pinned to the first CPU and the consumer to the
second, in every variant." \
  build-bench/bench/cross_free_compare "$bin/tp-run" "$bin/tp-space" "$progs/bench_cross_free" \
  "$mimalloc" "${TP_BENCH_XFREE_ROUNDS:-7}"

# ---- (e) launch ----------------------------------------------------------
section "(e) Launching programs" ""
subsection "Launch latency (hello world, dynamic PIE)"
bench "Where the time goes: \`tp-run\` is a second program to start on every launch (its own exec and
dynamic loading, a few hundred µs), the launch crosses processes (launcher → host → program →
host → launcher: each hop wakes a task on the other CPU, tens of µs on an idle VM), and every
\`mmap\`, \`munmap\` and \`brk\` that ld.so and mimalloc make in the program is performed by
the host (about 10 µs each; a dynamic hello with the space's allocator makes a few dozen).
The private space additionally reserves its arena and starts its supervisor threads. Threadprocs
loses here, by design: it pays at launch for what it saves at hand-off." \
  build-bench/bench/launch_latency "$bin/tp-run" "$bin/tp-space" "$progs/bench_hello" "${TP_BENCH_ROUNDS:-200}"
subsection "Slot-aware images: launch into a running space, dynamic and static-PIE"
bench "Each space launch is timed as a long-lived client sees it (bench/slot_aware_launch.cpp):
connect to the space's socket, send the launch request with the image and stdio fds, wait for the
exit report; no \`tp-run\` is started. The same hello world is linked four ways (an ordinary PIE
and static-PIE; the same two through tp-link). The goal of issue 4 was a slot-aware static image
launching in at most 0.5x the time of \`posix_spawn\` of the dynamic program; **it is not met on
this machine**. The launch path alone meets it (the last row: a static-PIE that exits at its
first instruction), but glibc's static start-up in the program costs more than the remaining
budget here: natively it is the difference between the static hello and the program that only
exits (page faults cost several µs each on this VM), and in a slot its \`brk\` calls are
trapped and performed by the host, each a round trip to a supervisor thread that is asleep at
that moment. A slot-aware image launches exactly as fast as the ordinary one: the note costs
nothing; what it buys is the name, the exports, the fixed slot and the stack size." \
  build-bench/bench/slot_aware_launch "$bin/tp-space" "$progs/bench_hello" "$progs/bench_hello_static" \
  "$progs/bench_hello_slot_aware" "$progs/bench_hello_slot_aware_static" "$progs/bench_exit" "${TP_BENCH_ROUNDS:-200}"
subsection "${TP_BENCH_MANY:-1000} live programs: launch rate and kernel memory per program"
printf '\n%s\n' "A small dynamically linked C program (bench/programs/bench_idle.c: writes one byte, then
sleeps in \`read\` on stdin) is started ${TP_BENCH_MANY:-1000} times as fast as the driver can, without waiting for one
before the next, as ordinary processes (\`posix_spawn\`) and through \`tp-run --space\` into one
running space of enough slots (\`tp-space start NAME --slots N+24 --slot-size 16G\`); the launch
rate is N over the time until all N have written their byte. With all of them alive, memory is
read from \`/proc\`: for the processes, the sum of their \`VmPTE\`, \`VmRSS\` (\`status\`) and
\`Pss\` (\`smaps_rollup\`); for the space, the same figures of its one address space (the host's
pid: every program shares its mm, so each page counts once), minus those of the empty space just
before. Each \`tp-run\` launcher stays alive as long as its program (it stands in for it: exit
status, signals), so the launchers' own memory is shown too. The driver raises its soft
\`RLIMIT_NOFILE\` to the hard limit (the host inherits it) and kills whatever it started if it
fails." | tee -a "$work/body.md"
bench "Threadprocs loses here as it stands. A program in a space saves only the top levels of the page
tables (one tree for the whole space instead of one per process) and the mm itself; it maps the
space's allocator and its shim on top of what a process maps (more Pss and RSS); and every
program needs its \`tp-run\`, a second process with its own page tables and libraries, so that
threadprocs plus launchers cost about twice what the processes cost. The launch rate is the
launch latency above seen in bulk: each launch is a \`tp-run\` to start, then a round trip to the
host, which loads programs one at a time." \
  build-bench/bench/many_programs "$bin/tp-run" "$bin/tp-space" "$progs/bench_idle" "${TP_BENCH_MANY:-1000}" \
  "${TP_BENCH_MANY_ROUNDS:-3}"

# ---- (f) supervisor --------------------------------------------------------
section "(f) The memory supervisor: one intercepted mmap, and an mmap-heavy program" ""
subsection "mmap-heavy program: supervised (threadproc) vs not"
bench "Threadprocs loses here: every trapped call is a round trip to the host's supervisor (a
seccomp user notification), about 10 µs where the kernel alone takes 1–6 µs. Page faults,
\`mprotect\` and \`madvise\` are not trapped and cost the same. Programs that map and unmap in
a tight loop pay it on every call; allocators that keep their memory (mimalloc, glibc's
arenas) pay it rarely." \
  build-bench/bench/mmap_compare "$bin/tp-run" "$progs/bench_mmap" "$rounds"
subsection "Memory supervisor bookkeeping per trapped call vs live mappings in the slot"
bench "CPU time of the supervisor's own bookkeeping (Google Benchmark), which must not grow with the
number of mappings a program holds: both the used ranges and the free gaps (indexed by size)
are kept, so each operation is O(log n)." \
  build-bench/bench/slot_map_micro

# ---- the page ------------------------------------------------------------
finished=$(date +%s)
kill "$sampler"
wait "$sampler" || true
sampler=
others=$(cat "$work/cpu_share.txt")
others_pct=$(awk -v line="$others" 'BEGIN {
  n = split(line, f, /[ =]/); for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1]
  x = v["elapsed_s"] * v["cpus"]; printf "%.0f", (x > 0 ? 100 * v["others_cpu_s"] / x : 0) }')
others_top=$(sed -n 's/.*top=//p' "$work/cpu_share.txt" | sed 's/,/, /g')
elapsed=$(( finished - bench_started ))
total_min=$(awk -v s=$(( finished - started )) 'BEGIN { printf "%.1f", s / 60 }')
bench_min=$(awk -v s="$elapsed" 'BEGIN { printf "%.1f", s / 60 }')
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
threads_per_core=$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1)
hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)
boost=$(dpkg-query -W -f='${Version}' libboost-dev 2>/dev/null || echo "not installed")
mi_version=$(dpkg-query -W -f='${Version}' libmimalloc2.0 2>/dev/null || echo "?")

{
  cat <<HEADER
# Benchmarks

Written by \`scripts/bench.sh\`, the one command that installs what is missing
(\`scripts/deps.sh --bench\`), builds \`build-bench\` (Release, \`-DTP_BUILD_BENCH=ON\`; the
benchmarks are off in the normal build and test command), runs every benchmark and rewrites this
page and [img/handoff.png](img/handoff.png). Every table compares its variants side by side in
one run, interleaved round by round (the order rotating), so that the machine's drift hits all
of them alike. Medians; ratios as each column says. Below each heading, the exact command that
printed the table. The cases follow the issue: (a) the map handoff, (b) a pointer ring, (c) a
shared lock, (d) allocation, (e) launching, (f) the memory supervisor; the closing note quotes
the headline ratios, and where Threadprocs loses each section says so, with the reason.

**Machine**: ${model:-$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')}, $(nproc) CPUs (${threads_per_core:-?} thread(s) per core), $(free -g | awk '/Mem:/{print $2}') GiB,
$(if [[ -n "$hypervisor" ]]; then echo "a virtual machine ($hypervisor);"; else echo "bare metal;"; fi) Linux $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME"), glibc $(ldd --version | head -1 | awk '{print $NF}'),
$(g++ --version | head -1), mimalloc ${mi_version}, Boost ${boost}, Google Benchmark $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo "?").

**Run**: $(date -u '+%Y-%m-%d %H:%M UTC'); \`scripts/bench.sh\` took ${total_min} min (${bench_min} min of benchmarks
after the build). Load average ${load0} at the start of the benchmarks, $(cut -d' ' -f1 /proc/loadavg) at the end;
other processes used at least ${others_pct}% of the machine's CPU time meanwhile (bench/cpu_share: ${others_top:-none}).
$(if (( others_pct >= 10 )); then echo "The machine was **not quiet** (other builds ran in parallel): the spinning cases ((b), (c)) suffer most; re-run \`scripts/bench.sh\` on a quiet machine for cleaner numbers."; fi)
HEADER
  cat "$work/body.md"
  cat <<CLOSING

## Closing note: the headline ratios

From the tables above (medians, this run):

$(cat "$TP_BENCH_SUMMARY")

Where Threadprocs wins, it is at handing over pointer-based data: the handoff costs one pointer,
whatever the size, as between threads, where every alternative copies. Where it loses, it is at
the edges of a program's life and at mapping memory: a launch goes through \`tp-run\` and the host
(and each live program keeps its launcher), and every \`mmap\`/\`munmap\`/\`mremap\`/\`brk\` is a
round trip to the host's supervisor. Flat messages are no cheaper to pass as pointers than to copy.
CLOSING
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench.sh: wrote $out in ${total_min} min" >&2
