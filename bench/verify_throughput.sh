#!/usr/bin/env bash
# Verify throughput: cards per second for `shcx verify` over N generated cards (default
# 2000, each its own .smart-health-card file), with 1 and 2 threads, beside OpenSSL's own
# ECDSA P-256 verify rate measured in the same run (`openssl speed ecdsap256`). Builds a
# Release binary in build-release/.
#
# Clocks: `openssl speed` counts operations per second of its user CPU time, so the
# 1-thread ratio divides shcx's rate per CPU second (user + system of the whole process:
# start-up, file reading and exit count against it) by that. Beside it, for comparison:
# the ratio on user time alone, and per card with the fixed cost of a process (a one-card
# run) taken out, as openssl speed leaves out its own. Thread scaling can only be seen on
# the wall clock. On a shared machine every figure is the best of REPS runs (default 3),
# and the load average is printed before and after: read the scaling figure with it.
# Usage: bench/verify_throughput.sh [N] [REPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
reps=${2:-3}
build=$root/build-release
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF -DSHCX_BUILD_BENCH=ON >/dev/null
shcx=$build/shcx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "generating $n cards ..." >&2
iss=https://issuer.shcx.example/demo
mkdir -p "$work/cards"
"$build/shcx_gen_cards" "$work/cards" "$n" "$root/testdata/issuer/key.jwk" "$iss" \
  "$root/testdata/bundles/covid-three-doses.json"
export SHCX_TRUST=$work/store
"$shcx" trust add --iss "$iss" --jwks "$root/testdata/issuer/jwks.json" >/dev/null

# Best of REPS runs of `shcx verify --jobs J FILES...`: "wall cpu user" (bench/best_of.py).
best() {  # jobs, files...
  local jobs=$1
  shift
  "$root/bench/best_of.py" "$reps" "$shcx" verify --jobs "$jobs" "$@"
}
cards=("$work"/cards/card-*.smart-health-card)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
best 1 "${cards[@]}" >/dev/null  # warm the page cache
read -r wall1 cpu1 user1 < <(best 1 "${cards[@]}")
read -r wall2 _ _ < <(best 2 "${cards[@]}")
# One card: what a run costs before and after its cards (start-up, trust, exit), so the
# per-card cost can be shown without it too.
read -r _ cpu_one _ < <(best 1 "${cards[0]}")
ossl=0
for _ in $(seq "$reps"); do
  r=$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $NF}' | tail -1)
  if [ "$(echo "$r > $ossl" | bc -l)" = 1 ]; then ossl=$r; fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

rate_cpu=$(echo "$n / $cpu1" | bc -l)
rate_user=$(echo "$n / $user1" | bc -l)
rate_cards=$(echo "($n - 1) / ($cpu1 - $cpu_one)" | bc -l)
rate1=$(echo "$n / $wall1" | bc -l)
rate2=$(echo "$n / $wall2" | bc -l)
printf '%-58s %12s\n' "measure (best of $reps)" "per second"
printf '%-58s %12.0f\n' "shcx verify, 1 thread, per CPU second ($n cards)" "$rate_cpu"
printf '%-58s %12.0f\n' "shcx verify, 1 thread, per CPU second, start-up excluded" "$rate_cards"
printf '%-58s %12.0f\n' "shcx verify, 1 thread, wall clock" "$rate1"
printf '%-58s %12.0f\n' "shcx verify, 2 threads, wall clock" "$rate2"
printf '%-58s %12.0f\n' "openssl speed ecdsap256 verify (1 core, CPU time)" "$ossl"
printf 'one-card run: %.1f ms CPU (start-up, trust, exit)\n' "$(echo "$cpu_one * 1000" | bc -l)"
printf 'ratio shcx 1 thread / openssl verify: %.2f\n' "$(echo "$rate_cpu / $ossl" | bc -l)"
# For comparison only: the same ratio on user CPU time alone, the clock openssl speed
# uses (it leaves out shcx's system time: reading the files, page faults, start-up), and
# per card with the process's fixed cost (the one-card run) taken out, as openssl speed
# leaves out its own start-up.
printf 'ratio on user CPU only (as openssl speed counts): %.2f\n' "$(echo "$rate_user / $ossl" | bc -l)"
printf 'ratio per card, start-up excluded: %.2f\n' "$(echo "$rate_cards / $ossl" | bc -l)"
printf '2-thread scaling (wall clock): %.2f\n' "$(echo "$rate2 / $rate1" | bc -l)"
printf 'load average before: %s; after: %s (%s cores)\n' "$load_before" "$load_after" "$(nproc)"
