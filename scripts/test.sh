#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite (ctest).
# Exits non-zero if any test fails. Used by .ci/run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DSHCX_BUILD_TESTS=ON
cd "$build"
ctest --output-on-failure -j "${SHCX_JOBS:-2}" --timeout 600
