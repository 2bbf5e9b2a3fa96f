#!/usr/bin/env bash
# Runs one browser test file (default: the PIN page's): installs playwright-core from npm (no browser download;
# Debian's /usr/bin/chromium is used) on first run, then node's test runner.
set -euo pipefail
cd "$(dirname "$0")"
export SHCX_BIN=${1:?usage: run.sh path/to/shcx [TEST.test.mjs]}
# Every step is bounded: a stuck npm or browser fails the test instead of hanging it.
if [ ! -d node_modules/playwright-core ]; then
  timeout 240 npm ci --no-audit --no-fund --loglevel=error
fi
exec timeout -k 10 240 node --test "${2:-pin_page.test.mjs}"
