#!/bin/sh
# Installs what ipfixd needs to build, run and test on Debian 12 (run as root).
#   scripts/install-deps.sh          build and run dependencies
#   scripts/install-deps.sh --test   plus the test oracles, the servers the sink tests start
#                                    (clickhouse-server, kcat, s3rver from npm) and the
#                                    sanitizer runtime
#   scripts/install-deps.sh --bench  plus the peers bench/run.py measures (nfdump, pmacct)
set -eu
export DEBIAN_FRONTEND=noninteractive

build="build-essential cmake pkg-config git ca-certificates
 libev-dev libyaml-dev libjansson-dev libglib2.0-dev libfixbuf-dev libssl-dev libmicrohttpd-dev
 librrd-dev librdkafka-dev libcurl4-openssl-dev zlib1g-dev
 libluajit-5.1-dev libpcap-dev libndpi-dev libmaxminddb-dev libsnmp-dev"
# not linked, needed to run: the font librrd draws the text of graphs with
run="fontconfig fonts-dejavu-core"
test="libcmocka-dev tshark python3 python3-cryptography clang libclang-rt-14-dev libfixbuf-tools iproute2 procps
 nfdump wrk
 prometheus nodejs
 systemd dpkg-dev file docker-compose yamllint unzip
 keepalived
 rrdtool rrdcached
 kcat clickhouse-server clickhouse-client
 softflowd tcpreplay python3-yaml
 libmaxmind-db-writer-perl snmpd snmp
 chromium"
# NodeSource's nodejs brings npm; Debian's own nodejs needs the npm package beside it
command -v npm >/dev/null 2>&1 || test="$test npm"

pkgs="$build $run"
if [ "${1:-}" = "--bench" ]; then
    pkgs="$pkgs python3 nfdump pmacct softflowd"
fi
if [ "${1:-}" = "--test" ]; then
    pkgs="$pkgs $test"
    # tshark asks whether non-root users may capture; the answer does not matter here
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi

# The S3 tests start s3rver (npm); installed here so that the tests need no network. Pinned:
# the tests read its on-disk layout of objects. A machine that cannot reach the npm registry
# (or not through its TLS) still gets everything else: the S3 tests then say so and skip.
S3RVER_VERSION=3.7.1
if [ "${1:-}" = "--test" ]; then
    have=$(s3rver --version 2>/dev/null || true)
    if [ "$have" != "$S3RVER_VERSION" ] &&
        ! npm install --global --prefix /usr/local --no-audit --no-fund --loglevel=error \
            --fetch-retries=1 --fetch-timeout=20000 \
            "s3rver@$S3RVER_VERSION"; then
        echo "install-deps: s3rver $S3RVER_VERSION not installed (the npm registry is not" \
            "reachable from here): the S3 tests will skip" >&2
    fi
fi
