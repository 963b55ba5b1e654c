#!/bin/sh
# User-space instructions of ipfixd collecting N records (default 100000) and writing them as
# JSON lines to /dev/null, counted by callgrind: a figure that the load of a shared machine does
# not move, for comparing two builds (docs/benchmarks.md). The stream is ipfixd-send's, slowed to
# 10,000 records/s so that nothing is lost under valgrind.
# usage: bench/callgrind_json.sh IPFIXD [RECORDS] [SEND_BUILD_DIR]
set -eu
BIN=$1
N=${2:-100000}
SEND=${3:-$(dirname "$0")/../build}/src/tools/ipfixd-send
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", 0)); print(s.getsockname()[1])')
cat > "$D/c.yaml" <<EOC
workers: 1
state-directory: none
api: {enabled: false}
collectors:
  - {name: bench, transport: udp, listen: "*:$PORT", receive-buffer: 32M}
outputs:
  - {name: devnull, type: json, path: "/dev/null"}
EOC
valgrind --tool=callgrind --callgrind-out-file="$D/cg.out" "$BIN" -c "$D/c.yaml" 2> "$D/err" &
IXD=$!
i=0
until grep -q "listening on" "$D/err"; do
    i=$((i + 1))
    [ $i -lt 150 ] || { cat "$D/err" >&2; kill -TERM $IXD; exit 1; }
    sleep 0.2
done
"$SEND" -q -n "$N" -r 10000 --template-interval 0 "127.0.0.1:$PORT"
sleep 2
kill -TERM $IXD
wait $IXD
grep -o "final output devnull: records=[0-9]*.*" "$D/err"
callgrind_annotate --inclusive=yes "$D/cg.out" | grep -E "PROGRAM TOTALS|=> .*json\.c:json_write "
