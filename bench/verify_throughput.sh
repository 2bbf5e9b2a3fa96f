#!/usr/bin/env bash
# Verify throughput: cards per second for `shcx verify` over N generated cards (default
# 2000), with 1 and 2 threads, beside OpenSSL's own ECDSA P-256 verify rate measured in
# the same run (`openssl speed ecdsap256`). Builds a Release binary in build-release/.
# Usage: bench/verify_throughput.sh [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
build=$root/build-release
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF >/dev/null
shcx=$build/shcx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "generating $n cards ..." >&2
iss=https://issuer.shcx.example/demo
for i in $(seq 1 "$n"); do
  "$shcx" issue "$root/testdata/bundles/covid-three-doses.json" --key "$root/testdata/issuer/key.jwk" \
    --iss "$iss" --nbf 2026-01-15T10:00:00Z --rid "bench$i" --out "$work/card-$i.smart-health-card"
done
export SHCX_TRUST=$work/store
"$shcx" trust add --iss "$iss" --jwks "$root/testdata/issuer/jwks.json" >/dev/null

now() { date +%s.%N; }
run() {  # threads -> seconds
  local t0 t1
  t0=$(now)
  "$shcx" verify --jobs "$1" "$work"/card-*.smart-health-card >/dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
run 1 >/dev/null  # warm the page cache
s1=$(run 1)
s2=$(run 2)
rate1=$(echo "$n / $s1" | bc -l)
rate2=$(echo "$n / $s2" | bc -l)

ossl=$(openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $NF}' | tail -1)
printf '%-44s %12s\n' "measure" "per second"
printf '%-44s %12.0f\n' "shcx verify, 1 thread ($n cards)" "$rate1"
printf '%-44s %12.0f\n' "shcx verify, 2 threads ($n cards)" "$rate2"
printf '%-44s %12.0f\n' "openssl speed ecdsap256 verify (1 core)" "$ossl"
printf 'ratio shcx 1 thread / openssl verify: %.2f\n' "$(echo "$rate1 / $ossl" | bc -l)"
