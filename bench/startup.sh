#!/usr/bin/env bash
# Start-up (issue 16, item 2): one-card `shcx verify` as a whole process with the real VCI
# snapshot installed (read in place from the conformance vectors through `trust sync` from
# a local server), median over RUNS runs (default 50) of the wall clock and the CPU time
# (user + system) of each process, beside `shcx --version` (nothing but starting the
# binary) and the full check (the compiled index moved away). Also what the dynamic loader
# does before main (LD_DEBUG=statistics). On a shared machine the wall clock is mostly
# waiting for a core: judge by the CPU time, read with the load average printed.
# Last line: "SUMMARY idx_wall idx_cpu idx_mib full_wall full_cpu full_mib version_cpu
# libraries relocations loader_cycles issuers" (for scripts/bench.sh).
# Usage: bench/startup.sh [RUNS]     ($SHCX: the binary to measure; default: a Release
#                                     build in build-release/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-50}
vectors=$("$root/scripts/fetch-vectors.sh" --where) || { echo "needs the conformance vectors: run scripts/fetch-vectors.sh" >&2; exit 2; }
if [ -z "${SHCX:-}" ]; then
  SHCX_BUILD_DIR=$root/build-release SHCX_BUILD_TYPE=Release SHCX_TARGET=shcx "$root/scripts/build.sh" \
    -DSHCX_BUILD_TESTS=OFF >/dev/null
  SHCX=$root/build-release/shcx
fi
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
card=$root/testdata/cards/covid-three-doses.smart-health-card
export SHCX_TRUST=$work/store
"$SHCX" trust add --iss https://issuer.shcx.example/demo --jwks "$root/testdata/issuer/jwks.json" --name "test issuer" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The server lives at most 2 minutes whatever happens here.
(cd "$vectors/vci" && exec timeout 120 python3 -m http.server "$port" --bind 127.0.0.1) >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/vci_snapshot.sig" >/dev/null && break; sleep 0.1; done
"$SHCX" trust sync --source "http://127.0.0.1:$port" --no-crls >/dev/null
kill "$server"; wait "$server" 2>/dev/null || true; server=
index_file=$(readlink -f "$SHCX_TRUST/current")/index.shcx
[ -f "$index_file" ] || { echo "startup: trust sync wrote no index" >&2; exit 1; }
issuers=$("$SHCX" trust status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"]["issuers"])')

# "wall_ms cpu_ms peak_mib": medians over the runs, peak of the peaks. Exit 0 or the
# snapshot's staleness warning only (the vectors' snapshot ages): anything else fails.
measure() {
  python3 - "$runs" "$@" <<'PY'
import os, subprocess, sys, time, statistics
runs, argv = int(sys.argv[1]), sys.argv[2:]
wall, cpu, peak = [], [], 0.0
for _ in range(runs):
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall.append((time.perf_counter() - t) * 1000)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"startup: {' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    cpu.append((ru.ru_utime + ru.ru_stime) * 1000)
    peak = max(peak, ru.ru_maxrss / 1024)
print(f"{statistics.median(wall):.1f} {statistics.median(cpu):.1f} {peak:.1f}")
PY
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r ver_wall ver_cpu ver_mib <<<"$(measure "$SHCX" --version)"
read -r idx_wall idx_cpu idx_mib <<<"$(measure "$SHCX" verify "$card")"
mv "$index_file" "$work/index.shcx"
read -r full_wall full_cpu full_mib <<<"$(measure "$SHCX" verify "$card")"
mv "$work/index.shcx" "$index_file"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
libraries=$(ldd "$SHCX" | wc -l)
stats=$(LD_DEBUG=statistics "$SHCX" verify "$card" 2>&1 >/dev/null || true)
relocations=$(echo "$stats" | awk '/final number of relocations:/ {print $NF; exit}')
cycles=$(echo "$stats" | awk '/total startup time in dynamic loader:/ {print $(NF-1); exit}')

printf 'one-card `shcx verify` with the real VCI snapshot installed (%s issuers); median of %s runs\n' "$issuers" "$runs"
printf 'load average (1, 5, 15 min) before: %s; after: %s\n' "$load_before" "$load_after"
printf '%-44s %8s %8s %9s\n' "" "wall ms" "CPU ms" "peak MiB"
printf '%-44s %8s %8s %9s\n' "shcx --version" "$ver_wall" "$ver_cpu" "$ver_mib"
printf '%-44s %8s %8s %9s\n' "shcx verify CARD, compiled index" "$idx_wall" "$idx_cpu" "$idx_mib"
printf '%-44s %8s %8s %9s\n' "shcx verify CARD, full check (no index)" "$full_wall" "$full_cpu" "$full_mib"
printf 'dynamic loader before main: %s shared libraries (ldd), %s relocations, %s cycles\n' "$libraries" "$relocations" "$cycles"
echo "SUMMARY $idx_wall $idx_cpu $idx_mib $full_wall $full_cpu $full_mib $ver_cpu $libraries $relocations $cycles $issuers"
