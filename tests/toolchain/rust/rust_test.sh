#!/bin/sh
# The Rust sample built by Cargo with tp-link as its linker, run in a space.
# Usage: rust_test.sh CARGO TOOLS_DIR SAMPLE_DIR TARGET_DIR
set -u
cargo=$1 tools=$2 sample=$3 target=$4
fail() { echo "FAIL: $*"; exit 1; }
cd "$sample" || exit 1
PATH="$tools:$PATH" CARGO_TARGET_DIR="$target" "$cargo" build --release --offline || fail "cargo build"
prog=$target/release/rust-sample
"$tools/tp-inspect" "$prog" | grep -q "slot-aware" || fail "not slot-aware: $("$tools/tp-inspect" "$prog")"
out=$("$tools/tp-run" "$prog") || fail "tp-run: status $?"
echo "$out"
echo "$out" | grep -qx "rust-sample: slot [0-9]* of [0-9]*, name rust-sample" || fail "self"
echo "$out" | grep -qx 'rust-sample: rust-sample/GREETING is "hello from Rust" (the static itself)' || fail "export"
echo "$out" | grep -qx "rust-sample: published rust-numbers (sum 500500), owned by slot [0-9]*" || fail "publish"
out=$("$prog") || fail "outside a space: status $?"
echo "$out"
[ "$out" = "rust-sample: the program does not run in a Threadprocs space" ] || fail "outside: $out"
echo PASS
