#!/bin/sh
# SLOT_AWARE must be a slot-aware image that runs in a space and names itself
# after its file; ORDINARY an ordinary PIE that uses libtp outside a space.
set -u
aware=$1 ordinary=$2
"$TP_INSPECT" "$aware" | grep -q "slot-aware" || { echo "FAIL: $aware is not slot-aware"; "$TP_INSPECT" "$aware"; exit 1; }
"$TP_INSPECT" "$ordinary" | grep -q "ordinary PIE" || { echo "FAIL: $ordinary is not an ordinary PIE"; "$TP_INSPECT" "$ordinary"; exit 1; }
out=$("$TP_RUN" "$aware") || { echo "FAIL: tp-run $aware"; exit 1; }
echo "$out"
case $out in "in a space: slot "*", name $(basename "$aware")") ;; *) echo "FAIL: $out"; exit 1;; esac
out=$("$ordinary") || exit 1
echo "$out"
[ "$out" = "not in a space: not in a space" ] || [ "${out#not in a space: }" != "$out" ] || { echo "FAIL: $out"; exit 1; }
echo PASS
