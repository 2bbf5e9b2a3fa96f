#!/usr/bin/env bash
# Share server under attack traffic, production settings (Argon2id t=2, m=19 MiB; caps
# 2048 connections, 32 per address; idle 5 s, request 10 s): p50/p99 of normal clients
# (PIN page, reveal) alone and beside IDLE idle sockets + DRIP slow-drip clients, and the
# ratio between them, measured in one run over real HTTP on 127.0.0.1.
# Usage: bench/share_flood.sh [N] [IDLE] [DRIP]      (default 200 1000 64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
idle=${2:-1000}
drip=${3:-64}
build=$root/build-release
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/shcx" share serve --db "$work/bench.db" --listen "127.0.0.1:$port" --public-url "http://127.0.0.1:$port" \
  --ready-file "$work/ready" --reveal-limit 1000000 --create-limit 1000000 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do [ -f "$work/ready" ] && break; sleep 0.05; done
[ -f "$work/ready" ] || { echo "share server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
token=$("$build/shcx" share user add bench --db "$work/bench.db" 2>/dev/null)
echo "share server: Argon2id t=2 m=19456 KiB, $(nproc) cores"
"$build/shcx_share_flood" "http://127.0.0.1:$port" "$token" "$n" "$idle" "$drip"
