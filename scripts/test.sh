#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the test suite (ctest). Exits non-zero
# if any test that ran failed. Used by .ci/run.
#
# Tests labelled `conformance` read third-party vectors (spec examples, the real VCI
# snapshot, Wycheproof) and run when those are found (scripts/fetch-vectors.sh --where:
# $SHCX_VECTORS, ../shared/vectors, or the cache that scripts/fetch-vectors.sh fills).
# Without them everything else runs, and the last line says what was left out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DSHCX_BUILD_TESTS=ON
cd "$build"
jobs=${SHCX_JOBS:-2}
if vectors=$("$root/scripts/fetch-vectors.sh" --where); then
  SHCX_VECTORS=$vectors ctest --output-on-failure -j "$jobs" --timeout 600
else
  skipped=$(ctest -N -L conformance | sed -n 's/^Total Tests: //p')
  status=0
  ctest --output-on-failure -j "$jobs" --timeout 600 -LE conformance || status=$?
  echo "conformance: $skipped tests not run (third-party vectors not found); get them with scripts/fetch-vectors.sh"
  exit $status
fi
