#!/bin/bash
# Installs what ipfixd needs, builds it and runs it on its built-in default config
# (IPFIX on UDP and TCP port 4739, JSON lines on standard output). As root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Standard output carries the records: the build talks on standard error. The tests are not
# built here (scripts/test.sh builds and runs them).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIXD_TESTS=OFF >&2
cmake --build build -j "$(nproc)" >&2
exec build/src/ipfixd "$@"
