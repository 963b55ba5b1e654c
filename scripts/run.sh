#!/bin/bash
# Installs what ipfixd needs, builds it and runs it on its built-in default config
# (IPFIX on UDP and TCP port 4739, JSON lines on standard output). As root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
exec build/src/ipfixd "$@"
