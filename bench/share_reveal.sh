#!/usr/bin/env bash
# Share server benchmark with the production KDF cost (Argon2id t=2, m=19 MiB): creates
# per second, single-client reveal latency (median, p99; target < 50 ms) and reveals per
# second under 32 concurrent clients, over real HTTP on 127.0.0.1. The clients stand for
# many people but all come from 127.0.0.1, so the per-address caps are lifted.
# Usage: bench/share_reveal.sh [N] [CLIENTS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
clients=${2:-32}
build=$root/build-release
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/shcx" share serve --db "$work/bench.db" --listen "127.0.0.1:$port" --public-url "http://127.0.0.1:$port" \
  --ready-file "$work/ready" --reveal-limit 1000000 --create-limit 1000000 \
  --max-connections-per-address 1024 2>"$work/server.log" &
server=$!
# On exit: SIGTERM, at most 10 s for the server to stop, then SIGKILL.
stop_server() {
  kill "$server" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap 'stop_server; rm -rf "$work"' EXIT
for _ in $(seq 600); do [ -f "$work/ready" ] && break; sleep 0.05; done
[ -f "$work/ready" ] || { echo "share server did not start within 30 s: $(cat "$work/server.log")" >&2; exit 1; }
token=$("$build/shcx" share user add bench --db "$work/bench.db" 2>/dev/null)
echo "share server: Argon2id t=2 m=19456 KiB, $(nproc) cores"
"$build/shcx_share_bench" "http://127.0.0.1:$port" "$token" "$n" "$clients"
