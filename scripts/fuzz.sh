#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS (default
# 30) on a corpus seeded from the spec examples and testdata/. The build is
# scripts/sanitize.sh's, in build-asan/ (or $SHCX_FUZZ_BUILD_DIR); SHCX_FUZZ_NO_BUILD=1
# skips building. Exits non-zero on any crash, leak, timeout (10 s per input) or
# out-of-memory (2 GiB), leaving the input in BUILD/artifacts/TARGET/; add it to
# fuzz/regressions/TARGET/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default: every fuzz/fuzz_TARGET.cpp)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/fuzz_*.cpp; do t=${f##*/fuzz_}; targets+=("${t%.cpp}"); done
fi
build=${SHCX_FUZZ_BUILD_DIR:-$root/build-asan}
vectors=$("$root/scripts/fetch-vectors.sh" --where) || { echo "needs the conformance vectors: run scripts/fetch-vectors.sh" >&2; exit 2; }
ex=$vectors/spec-examples

if [ -z "${SHCX_FUZZ_NO_BUILD:-}" ]; then
  SHCX_ASAN_BUILD_DIR=$build "$root/scripts/sanitize.sh" --build-only $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
fi

# Seeds: real inputs of each kind (copied, so the committed files are never modified),
# made afresh each run so a seed dropped from this list does not linger.
rm -rf "$build/seeds"
seed() {  # target, files...
  local dir=$build/seeds/$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && install -m 644 "$f" "$dir/$(basename "$f")"; done
}
seed numeric "$ex"/*-f-qr-code-numeric-value-*.txt "$root"/testdata/cards/*.txt
seed jws "$ex"/*-d-jws.txt
seed card "$ex"/*-c-jws-payload-minified.json "$ex"/*-b-jws-payload-expanded.json "$root"/policies/*.json
seed trust "$ex/issuer/.well-known/jwks.json" "$ex"/issuer/.well-known/crl/*.json "$root/testdata/issuer/jwks.json"
# The real snapshot is 700 KB; a slice of it (its quirky entries included) fuzzes faster.
python3 - "$vectors/vci/vci_snapshot.json" "$build/seeds/trust/vci_snapshot_slice.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['issuerInfo'] = [e for e in d['issuerInfo'] if 'crls' in e][:2] + d['issuerInfo'][:3]
json.dump(d, open(sys.argv[2], 'w'))
PY
seed image "$ex"/*.png "$root"/testdata/cards/*.png
seed share_api "$root"/fuzz/regressions/share_api/*
seed shl "$root"/fuzz/regressions/shl/*
# Raw DEFLATE payloads, cut out of the example JWS.
mkdir -p "$build/seeds/inflate"
for f in "$ex"/*-d-jws.txt; do
  python3 - "$f" "$build/seeds/inflate/$(basename "$f" .txt).deflate" <<'PY'
import base64, sys
p = open(sys.argv[1]).read().strip().split('.')[1]
open(sys.argv[2], 'wb').write(base64.urlsafe_b64decode(p + '=' * (-len(p) % 4)))
PY
done

# Targets run $SHCX_JOBS (default 2) at a time: each is one process on one core, so on two
# cores this halves the stage's wall time without shortening any target's run.
run_target() {  # target
  local t=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1
  mkdir -p "$corpus" "$artifacts"
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$build/seeds/$t" "$root/fuzz/regressions/$t" \
    > "$build/fuzz_$t.log" 2>&1
}
report_target() {  # target, exit status
  local t=$1
  if [ "$2" -ne 0 ]; then
    echo "fuzz_$t FAILED: see $build/fuzz_$t.log and $build/artifacts/$t/" >&2
    tail -40 "$build/fuzz_$t.log" >&2
    return 1
  fi
  echo "fuzz_$t: ${seconds}s, $(grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$build/fuzz_$t.log" | tail -1)" >&2
}
status=0
parallel=${SHCX_JOBS:-2}
for ((i = 0; i < ${#targets[@]}; i += parallel)); do
  pids=()
  group=("${targets[@]:i:parallel}")
  for t in "${group[@]}"; do
    run_target "$t" &
    pids+=($!)
  done
  for k in "${!group[@]}"; do
    code=0
    wait "${pids[$k]}" || code=$?
    report_target "${group[$k]}" "$code" || status=1
  done
done
[ $status -eq 0 ] && echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no findings"
exit $status
