#!/bin/sh
# The two programs in one named space: the consumer reads and frees the
# producer's table. Usage: handoff.sh PRODUCER CONSUMER (tools in $TP_RUN, $TP_SPACE).
set -u
space=consumer-test-$$
"$TP_SPACE" start "$space" || exit 1
trap '"$TP_SPACE" stop "$space" >/dev/null 2>&1' EXIT
"$TP_RUN" --space "$space" "$1" > producer.out 2>&1 &
producer=$!
"$TP_RUN" --space "$space" "$2" > consumer.out 2>&1
consumer_rc=$?
wait $producer
producer_rc=$?
cat producer.out consumer.out
[ $producer_rc -eq 0 ] && [ $consumer_rc -eq 0 ] || { echo "FAIL: producer $producer_rc, consumer $consumer_rc"; exit 1; }
grep -qx "consumer (slot [0-9]*): read 100000 entries (0 wrong) in the producer's memory (slot [0-9]*), freed them" \
  consumer.out || exit 1
grep -qx "producer: the consumer took the table" producer.out || exit 1
echo PASS
