#!/bin/sh
# libtp against a real host: a held slot outlives its program and goes when
# released or when its holder dies; a program killed holding the registry
# lock does not wedge the registry. Usage: api_test.sh TOOLS_DIR PROGRAM WORK_DIR
set -u
tools=$1 prog=$2 work=$3
fail() { echo "FAIL: $*"; "$tools/tp-space" log "$space" 2>/dev/null | tail -20; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
space=tp-api-test-$$
"$tools/tp-space" start "$space" >/dev/null || exit 1
trap '"$tools/tp-space" stop "$space" >/dev/null 2>&1' EXIT
state_of_slot() {  # prints the STATE column of slot $1 (nothing if free)
  "$tools/tp-space" ps "$space" | awk -v s="$1" 'NR > 1 && $2 == s { print $4 }'
}
slot_is() { [ "$(state_of_slot "$1")" = "$2" ]; }
wait_for() {  # wait_for DESCRIPTION COMMAND...: up to 10 s
  what=$1; shift
  i=0; while ! "$@"; do i=$((i + 1)); [ $i -lt 200 ] || fail "timed out: $what"; sleep 0.05; done
}

for round in release holder-killed; do
  mkfifo in || exit 1
  "$tools/tp-run" --space "$space" "$prog" owner > owner.out 2>&1 & owner=$!
  "$tools/tp-run" --space "$space" "$prog" holder < in > holder.out 2>&1 & holder=$!
  exec 3> in
  wait $owner || fail "owner: $(cat owner.out)"
  cat owner.out
  wait_for "holder output" grep -q "holding slot" holder.out
  slot=$(sed -n 's/holder: holding slot //p' holder.out)
  wait_for "slot $slot held" slot_is "$slot" held
  echo "slot $slot of the ended owner: held"
  if [ $round = release ]; then
    exec 3>&-
    wait $holder || fail "holder: $(cat holder.out)"
    cat holder.out
    grep -qx "holder: read the ended owner's buffer: 0 bad bytes" holder.out || fail "holder read"
    grep -qx "holder: released; a second release says: this program holds no hold on the slot of that address" \
      holder.out || fail "second release"
  else
    kill -9 $holder
    wait $holder
    exec 3>&-
    echo "holder killed"
  fi
  wait_for "slot $slot freed" slot_is "$slot" ""
  echo "slot $slot freed after: $round"
  rm -f in
done

# A program killed while it holds the registry lock.
"$tools/tp-run" --space "$space" "$prog" locker; rc=$?
[ $rc -eq 137 ] || fail "locker: status $rc, want 137 (SIGKILL)"
out=$(timeout 20 "$tools/tp-run" --space "$space" "$prog" publisher after-the-locker) || fail "publisher: $out"
echo "$out"
[ "$out" = "publisher: after-the-locker: published" ] || fail "$out"
echo PASS
