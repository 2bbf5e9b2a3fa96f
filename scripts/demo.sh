#!/usr/bin/env bash
# First-run experience: install dependencies, build, trust the bundled demo issuer in a
# private trust store (build/demo-trust, so your own store is not touched) and verify a
# bundled card from its QR image, the way a venue would.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
SHCX_TARGET=shcx "$root/scripts/build.sh"
cd "$root"
export SHCX_TRUST=$root/build/demo-trust
./build/shcx trust add --iss https://issuer.shcx.example/demo --jwks testdata/issuer/jwks.json \
  --name "shcx demo issuer" >/dev/null
echo
echo "\$ shcx verify testdata/cards/covid-three-doses.png"
./build/shcx verify testdata/cards/covid-three-doses.png
