#!/usr/bin/env bash
# The lint gate CI runs: formatting (.clang-format, scripts/check-format.sh), then a full
# build in build-lint/ with warnings as errors (SHCX_WERROR) and clang-tidy on lib/ and
# tools/ (SHCX_CLANG_TIDY, .clang-tidy). Exits non-zero on any finding.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/check-format.sh"
SHCX_BUILD_DIR=${SHCX_LINT_BUILD_DIR:-$root/build-lint} \
  "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=ON -DSHCX_BUILD_BENCH=ON -DSHCX_WERROR=ON -DSHCX_CLANG_TIDY=ON
echo "lint: formatting, -Werror and clang-tidy clean"
