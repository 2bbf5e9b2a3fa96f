#!/usr/bin/env bash
# First-run experience: install dependencies, build, and read a bundled card from its
# QR image, the way a venue would.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF
echo
echo "\$ shcx decode testdata/cards/covid-three-doses.png"
cd "$root"
./build/shcx decode testdata/cards/covid-three-doses.png
