#!/usr/bin/env bash
# Configures and builds shcx into build/ (or $SHCX_BUILD_DIR). Extra arguments go to
# cmake; $SHCX_TARGET limits the build to those targets (e.g. shcx, or several separated by
# spaces).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${SHCX_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
# shellcheck disable=SC2086  # split on purpose: target names hold no spaces
cmake --build "$build" -j "${SHCX_JOBS:-2}" ${SHCX_TARGET:+--target $SHCX_TARGET}
