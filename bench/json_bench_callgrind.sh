#!/bin/sh
# Instructions per record of JSON formatting in-process (bench/json_bench.c), counted by
# callgrind: the compiled templates the JSON output uses, and the field-by-field formatter, over
# the same decoded records. The machine's load does not move these counts.
# usage: bench/json_bench_callgrind.sh [BUILD_DIR] [-6]
set -eu
BUILD=${1:-$(dirname "$0")/../build}
V6=${2:-}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
# shellcheck disable=SC2086
valgrind --tool=callgrind --callgrind-out-file="$D/cg" "$BUILD/bench/ixd-json-bench" $V6 10 \
    > "$D/out" 2> "$D/err"
N=$(sed -n 's/.*: \([0-9]*\) records per formatter/\1/p' "$D/out")
callgrind_annotate --inclusive=yes "$D/cg" > "$D/ann"
for f in format_compiled format_fields; do
    IR=$(awk -v f="json_bench.c:$f " 'index($0, f) && !/=>/ { gsub(",", "", $1); print $1; exit }' "$D/ann")
    echo "$f: $((IR / N)) instructions per record ($IR over $N)"
done
