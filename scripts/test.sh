#!/bin/bash
# Installs what the tests need, builds ipfixd twice (release and ASan+UBSan) and runs every
# test against both builds. Run from anywhere, as root on Debian 12.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the release build's tests only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

stage() {
    local name=$1
    shift
    local start=$SECONDS
    echo "=== ${name}"
    "$@"
    echo "=== ${name}: $((SECONDS - start)) s"
}

build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DIXD_WERROR=ON -DIXD_TESTS=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

stage "install dependencies" scripts/install-deps.sh --test
stage "build" build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
stage "tests" ctest --test-dir build --output-on-failure --no-tests=error
if [ "${1:-}" != "--quick" ]; then
    stage "sanitizer build" build build-asan -DCMAKE_BUILD_TYPE=Debug -DIXD_SANITIZE=ON
    # the sanitized daemon is several times slower: integration tests scale their loads by IXD_SLOW
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export IXD_SLOW=4
    # release-only: tests whose time goes on waiting, or on what no build changes (the labels'
    # reasons are in tests/*/CMakeLists.txt)
    stage "sanitizer tests" ctest --test-dir build-asan --output-on-failure --no-tests=error \
        -LE release-only
fi
