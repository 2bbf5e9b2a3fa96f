#!/usr/bin/env bash
# Regenerates testdata/ with shcx itself: a test issuer key, and for every bundle in
# testdata/bundles/ a signed card as .smart-health-card, shc:/ text, PNG and SVG QR
# codes (one per chunk, plus a one-image "sheet" for chunked cards).
# ECDSA signatures are randomized, so every run changes the cards; the tests compare
# content, not bytes. Usage: scripts/gen-testdata.sh [path/to/shcx]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shcx=${1:-$root/build/shcx}
td=$root/testdata
iss=https://issuer.shcx.example/demo
nbf=2026-01-15T10:00:00Z

mkdir -p "$td/issuer" "$td/cards"
if [ ! -f "$td/issuer/key.jwk" ]; then
  "$shcx" keygen --out "$td/issuer/key.jwk" --jwks-out "$td/issuer/jwks.json"
fi
rm -f "$td/cards/"*
for bundle in "$td/bundles/"*.json; do
  name=$(basename "$bundle" .json)
  rid=$(printf '%s' "$name" | sha256sum | cut -c1-11 | tr 'abcdef' 'ABCDEF')
  sheet=()
  # A card that needs chunks also gets one image holding every chunk (reassembly within one image).
  if [ "$name" = large-history ]; then sheet=(--qr-sheet "$td/cards/$name-sheet.png"); fi
  "$shcx" issue "$bundle" --key "$td/issuer/key.jwk" --iss "$iss" --nbf "$nbf" --rid "$rid" \
    --out "$td/cards/$name.smart-health-card" --numeric "$td/cards/$name.txt" \
    --qr "$td/cards/$name.png" --qr "$td/cards/$name.svg" "${sheet[@]}"
done
ls -l "$td/cards"
