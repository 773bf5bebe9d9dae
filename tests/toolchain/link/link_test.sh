#!/bin/sh
# tp-link as the link step of a plain Makefile; the images run outside a space
# and in one; a fixed-slot image at its link address and relocated; refusals.
# Usage: link_test.sh TOOLS_DIR INCLUDE_DIR WORK_DIR
set -u
tools=$1 include=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cp "$here"/makefile/* "$work"/ || exit 1
cd "$work" || exit 1

make -s TP_LINK="$tools/tp-link" TP_INCLUDE="$include" || fail "make"

# Outside a space: an ordinary program.
out=$(./greeter); [ $? -eq 0 ] || fail "greeter outside a space"
echo "$out"
[ "$out" = "hello (outside a space: the program does not run in a Threadprocs space)" ] || fail "outside: $out"

# In a (private) space: it finds its own export by name; exit codes pass through.
for prog in greeter greeter-static; do
  out=$("$tools/tp-run" ./$prog); rc=$?
  echo "$out"
  [ $rc -eq 0 ] || fail "tp-run $prog: status $rc"
  [ "$out" = "hello from $prog: $prog/visits is my own counter" ] || fail "$prog: $out"
  "$tools/tp-run" ./$prog with-argument >/dev/null; rc=$?
  [ $rc -eq 3 ] || fail "tp-run $prog with-argument: status $rc, want 3"
done

# Linked for slot 5: loads there with a zero relocation delta while slot 5 is
# free, and is relocated to another slot while slot 5 is taken.
space=tp-link-test-$$
"$tools/tp-space" start "$space" >/dev/null || fail "tp-space start"
trap '"$tools/tp-space" stop "$space" >/dev/null 2>&1; exec 3>&- 4>&-' EXIT
out=$("$tools/tp-run" --space "$space" ./fixed-slot) || fail "fixed-slot"
echo "$out"
[ "$out" = "slot 5, relocation delta 0" ] || fail "fixed-slot in a free slot 5: $out"
mkfifo in1 in2 || exit 1
"$tools/tp-run" --space "$space" ./fixed-slot wait < in1 > first.out & first=$!
exec 3> in1
while ! grep -q slot first.out 2>/dev/null; do sleep 0.05; done
"$tools/tp-run" --space "$space" ./fixed-slot wait < in2 > second.out & second=$!
exec 4> in2
while ! grep -q slot second.out 2>/dev/null; do sleep 0.05; done
cat first.out second.out
ps_out=$("$tools/tp-space" ps --long "$space")
echo "$ps_out"
exec 3>&- 4>&-
wait $first $second
[ "$(cat first.out)" = "slot 5, relocation delta 0" ] || fail "first: $(cat first.out)"
case $(cat second.out) in
  "slot 5,"*) fail "second instance also in slot 5" ;;
  "slot "*", relocation delta 0") fail "second instance not relocated: $(cat second.out)" ;;
  "slot "*", relocation delta 0x"*) ;;
  *) fail "second: $(cat second.out)" ;;
esac
echo "$ps_out" | grep -q "at-link-address" || fail "tp-space ps does not say at-link-address"
echo "$ps_out" | grep -q "relocated(linked for slot 5)" || fail "tp-space ps does not say relocated"

# Refusals: what, which file, why; the build stops.
out=$("$tools/tp-link" -no-pie greeter.o greeting.o -o bad 2>&1); rc=$?
echo "$out"
[ $rc -eq 2 ] && echo "$out" | grep -q "no-pie: a slot-aware image is position-independent" || fail "-no-pie: $rc $out"
cc -c -O2 -fno-pic -mcmodel=large greeting.c -o nopic.o || exit 1
out=$("$tools/tp-link" -- -I"$include" greeter.c nopic.o -Wl,-z,notext -o textrel 2>&1); rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "text relocations: status $rc"
echo "$out" | grep -q "textrel: it has text relocations" || fail "text relocations: $out"
[ ! -e textrel ] || fail "the refused image was left behind"
out=$("$tools/tp-link" --cc no-such-compiler greeter.o -o x 2>&1); rc=$?
echo "$out"
[ $rc -eq 127 ] || fail "missing driver: status $rc"
echo PASS
