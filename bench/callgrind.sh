#!/bin/sh
# User-space instructions per record of ipfixd collecting N records (default 100000), counted by
# callgrind: a figure that the load of a shared machine does not move, for comparing two builds
# (docs/benchmarks.md). MODE is the receiver of bench/run.py it stands for: count (no outputs),
# json (JSON lines to /dev/null), ipfixfile (RFC 5655 files) or relay (filter, then IPFIX export
# over UDP to a port nobody reads). The daemon's start and stop are measured alone (0 records)
# and taken off. The stream is ipfixd-send's, slowed to 10,000 records/s so that nothing is lost
# under valgrind.
# SEND_OPTS (environment) adds options of ipfixd-send to the stream: "-e 64" (64 exporters),
# "-6" (the IPv6 template), "-T" (TCP; the collector then listens on TCP).
# CG_KEEP=FILE keeps the callgrind profile of the run with records (for callgrind_annotate).
# usage: [SEND_OPTS=...] [CG_KEEP=FILE] bench/callgrind.sh MODE IPFIXD [RECORDS] [SEND_BUILD_DIR]
set -eu
MODE=$1
BIN=$2
N=${3:-100000}
SEND=${4:-$(dirname "$0")/../build}/src/tools/ipfixd-send
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
free_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
SEND_OPTS=${SEND_OPTS:-}
TRANSPORT=udp
case " $SEND_OPTS " in *" -T "*) TRANSPORT=tcp ;; esac
case $MODE in
count) OUTPUTS="" ;;
json) OUTPUTS='outputs:
  - {name: devnull, type: json, path: "/dev/null"}' ;;
ipfixfile) OUTPUTS="outputs:
  - {name: files, type: ipfix-file, directory: \"$D\"}" ;;
relay) OUTPUTS="outputs:
  - {name: up, type: ipfix, transport: udp, destinations: [\"127.0.0.1:$(free_port)\"]}
pipelines:
  - {name: relay, from: bench, to: up, stages: [{filter: \"proto tcp or proto udp\"}]}" ;;
*) echo "usage: $0 count|json|ipfixfile|relay IPFIXD [RECORDS] [SEND_BUILD_DIR]" >&2; exit 2 ;;
esac
cat > "$D/c.yaml" <<EOC
workers: 1
state-directory: none
api: {enabled: false}
collectors:
  - {name: bench, transport: $TRANSPORT, listen: "*:$PORT", receive-buffer: 32M}
$OUTPUTS
EOC
# total instructions of a run that receives $1 records
run() {
    valgrind --tool=callgrind --callgrind-out-file="$D/cg.$1" "$BIN" -c "$D/c.yaml" 2> "$D/err.$1" &
    IXD=$!
    i=0
    until grep -q "listening on" "$D/err.$1"; do
        i=$((i + 1))
        [ $i -lt 300 ] || { cat "$D/err.$1" >&2; kill -TERM $IXD; exit 1; }
        sleep 0.2
    done
    if [ "$1" -gt 0 ]; then
        # shellcheck disable=SC2086
        "$SEND" -q -n "$1" -r 10000 --template-interval 0 $SEND_OPTS "127.0.0.1:$PORT"
    fi
    sleep 2
    kill -TERM $IXD
    wait $IXD
    grep -q "final collector bench: .* records=$1 " "$D/err.$1" ||
        { echo "records lost:" >&2; grep "final collector" "$D/err.$1" >&2; exit 1; }
    callgrind_annotate "$D/cg.$1" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
IDLE=$(run 0)
FULL=$(run "$N")
if [ -n "${CG_KEEP:-}" ]; then cp "$D/cg.$N" "$CG_KEEP"; fi
echo "$MODE $BIN: $(( (FULL - IDLE) / N )) instructions per record ($FULL - $IDLE over $N)"
