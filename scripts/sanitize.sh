#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and
# runs the whole test suite there; any sanitizer report fails the run.
#
# The build is clang's with SHCX_FUZZ=ON, so the same directory also holds the libFuzzer
# targets: scripts/fuzz.sh builds and runs them there, and CI compiles the sanitized
# library once for both stages rather than twice (about 6 minutes on two cores). The cost
# is coverage instrumentation in the test binaries too, which the suite's time absorbs.
#
# Usage: scripts/sanitize.sh                       build all, run the suite
#        scripts/sanitize.sh --build-only [TARGET...]   build (those targets) and run nothing
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_ASAN_BUILD_DIR:-$root/build-asan}
build_only=
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
command -v clang++ >/dev/null || { echo "sanitize: clang++ not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
CC=clang CXX=clang++ SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=RelWithDebInfo SHCX_TARGET="$*" "$root/scripts/build.sh" \
  -DSHCX_FUZZ=ON -DSHCX_BUILD_TESTS=ON -DSHCX_BUILD_BENCH=OFF
[ -n "$build_only" ] && exit 0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build"
ctest --output-on-failure -j "${SHCX_JOBS:-2}" --timeout 900
