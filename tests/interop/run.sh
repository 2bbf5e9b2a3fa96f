#!/usr/bin/env bash
# Interop with kill-the-clipboard (npm), an independent SMART Health Cards and Links
# implementation: installs it on first run (npm ci, from package-lock.json), then node's
# test runner. Usage: run.sh path/to/shcx path/to/shcx_test_shl_serve
set -euo pipefail
cd "$(dirname "$0")"
export SHCX_BIN=${1:?usage: run.sh path/to/shcx path/to/shcx_test_shl_serve}
export SHCX_SHL_SERVE=${2:?usage: run.sh path/to/shcx path/to/shcx_test_shl_serve}
# kill-the-clipboard needs Node 20 (global WebCrypto); Debian 12 ships 18. Exit 77 is
# ctest's SKIP_RETURN_CODE for this test: reported as skipped, never as passed.
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "interop test skipped: kill-the-clipboard needs Node.js 20 or later, this is $(node --version)" >&2
  exit 77
fi
# Every step is bounded: a stuck npm or test fails instead of hanging.
if [ ! -f node_modules/kill-the-clipboard/package.json ]; then
  timeout 240 npm ci --no-audit --no-fund --loglevel=error
fi
exec timeout -k 10 240 node --test --test-concurrency=1 interop.test.mjs
