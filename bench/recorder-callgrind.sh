#!/bin/sh
# recorder-callgrind.sh - the recorder's instructions per recorded byte.
#
#   bench/recorder-callgrind.sh [BUILD] [FRAME_BYTES] [MIB]
#
# Starts BUILD/bastion-recorder (default build/) in a scratch directory
# under valgrind --tool=callgrind, feeds it MIB (default 32) of random
# output in frames of FRAME_BYTES (default 32768, what the session child
# sent per SSH packet before issue 19 item 5; 262144 is its largest batch
# now) with the test tool rec_feed, exactly as a session child would, and
# prints the total instruction count and the top functions. Instruction
# counts do not depend on what else the machine runs, so two builds can be
# compared on a busy machine (docs/PERFORMANCE.md). Under valgrind OpenSSL
# does not use the CPU's SHA instructions: the SHA-256 block function
# (libcrypto's largest entry) looks several times heavier than it is.
set -eu
B=$(cd "${1:-build}" && pwd)
CH=${2:-32768}
MB=${3:-32}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
W=$(mktemp -d /tmp/reccg.XXXXXX)
trap 'rm -rf "$W"' EXIT
head -c $((MB * 1024 * 1024)) /dev/urandom > "$W/data"
"$B/bastion-recorder" --init -k "$W/k" >/dev/null
mkdir "$W/rec"
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
    "$B/bastion-recorder" -D -k "$W/k" -d "$W/rec" -s "$W/s" >"$W/log" 2>&1 &
vp=$!
n=0
while [ ! -S "$W/s" ]; do
	n=$((n + 1))
	[ $n -lt 600 ] || { cat "$W/log" >&2; kill $vp; exit 1; }
	sleep 0.1
done
"$B/tests/rec_feed" -s "$W/s" "open engineer=a device=d" \
    "outfile $W/data $CH" close >/dev/null
kill -TERM $vp
wait $vp || true
echo "recorder: $MB MiB in frames of $CH bytes ($B)"
callgrind_annotate "$W/cg.out" | grep -m1 "PROGRAM TOTALS"
callgrind_annotate "$W/cg.out" | sed -n '/file:function/,$p' | sed -n '3,10p'
