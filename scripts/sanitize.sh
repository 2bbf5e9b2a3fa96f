#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and
# runs the whole test suite there; any sanitizer report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_ASAN_BUILD_DIR:-$root/build-asan}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=RelWithDebInfo "$root/scripts/build.sh" -DSHCX_SANITIZE=ON -DSHCX_BUILD_TESTS=ON \
  -DSHCX_BUILD_BENCH=OFF
cd "$build"
ctest --output-on-failure -j "${SHCX_JOBS:-2}" --timeout 900
