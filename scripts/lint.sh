#!/usr/bin/env bash
# The lint gate: formatting (.clang-format, scripts/check-format.sh), then a full build in
# build-lint/ with warnings as errors (SHCX_WERROR), then clang-tidy (.clang-tidy) on every
# lib/ and tools/ source file, $SHCX_JOBS (default 2) at a time, through run-clang-tidy on
# the build's compile_commands.json. Headers under lib/shcx and tools/shcx are checked
# through the files that include them (HeaderFilterRegex). Exits non-zero on any finding.
# Tidy runs after the build rather than inside it (SHCX_CLANG_TIDY) so that the build
# itself stays ccache-fast and tests/, bench/ and fuzz/ are left out.
# Cost (measured on the 2-core dev machine): clang-tidy needs 7-21 CPU seconds per file,
# about 11 CPU minutes for the ~70 files, so about 6 minutes at -j2 on idle cores; the
# -Werror build costs what a clean build costs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SHCX_LINT_BUILD_DIR:-$root/build-lint}
jobs=${SHCX_JOBS:-2}
run_tidy=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
if [ -z "$run_tidy" ]; then
  echo "lint: run-clang-tidy not found (apt-get install clang-tidy)" >&2
  exit 2
fi
"$root/scripts/check-format.sh"
SHCX_BUILD_DIR=$build "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=ON -DSHCX_BUILD_BENCH=ON -DSHCX_WERROR=ON \
  -DSHCX_CLANG_TIDY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
# run-clang-tidy always colours its output and names every file it starts; the findings
# read better without either.
set +e
"$run_tidy" -p "$build" -j "$jobs" -quiet "^$root/(lib|tools)/shcx/.*\\.cpp\$" 2>&1 |
  sed -e 's/\x1b\[[0-9;]*m//g' |
  grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^clang-tidy(-[0-9]+)? '
tidy_status=${PIPESTATUS[0]}
set -e
if [ "$tidy_status" -ne 0 ]; then
  echo "lint: clang-tidy findings above (.clang-tidy; fix them, or disable a noisy check there with a reason)" >&2
  exit 1
fi
echo "lint: formatting, -Werror and clang-tidy clean"
