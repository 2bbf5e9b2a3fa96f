#!/usr/bin/env bash
# Reveals per second with the production KDF cost on one database: SQLite with one
# instance, then PostgreSQL with one and with two `share serve` instances (the clients
# spread their reveals over both). PostgreSQL is a private server started here (Debian's
# postgresql, initdb in a temp dir, unix socket only, fsync on as in production) and
# stopped at the end. On a 2-core machine the instances and the database share the same
# cores, so two instances show the cost of coordination rather than a speed-up.
# Usage: bench/share_pg.sh [N] [CLIENTS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
clients=${2:-32}
build=$root/build-release
SHCX_BUILD_DIR=$build SHCX_BUILD_TYPE=Release "$root/scripts/build.sh" -DSHCX_BUILD_TESTS=OFF -DSHCX_BUILD_BENCH=ON >/dev/null
shcx=$build/shcx
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$work"
  as_pg=(runuser -u postgres --)
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$work'" start >/dev/null
psql -q -h "$work" -U postgres -c "CREATE DATABASE shares" postgres
pguri="postgresql://postgres@/shares?host=$work"
head -c 32 /dev/urandom >"$work/pepper"
chmod 600 "$work/pepper"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# serve DB NAME: starts an instance and sets $url once it listens (not a $(...) call:
# the server would hold the substitution's pipe open).
serve() {
  local port
  port=$(free_port)
  "$shcx" share serve --db "$1" --pepper "$work/pepper" --listen "127.0.0.1:$port" \
    --public-url "http://127.0.0.1:$port" --ready-file "$work/$2.ready" \
    --reveal-limit 1000000 --create-limit 1000000 >/dev/null 2>"$work/$2.log" &
  pids+=($!)
  for _ in $(seq 400); do [ -f "$work/$2.ready" ] && break; sleep 0.05; done
  [ -f "$work/$2.ready" ] || { echo "bench: $2 did not start: $(cat "$work/$2.log")" >&2; exit 1; }
  url="http://127.0.0.1:$port"
}
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
reveals() { "$build/shcx_share_bench" "$@" | grep -E '^reveals/s'; }

echo "share store benchmark: Argon2id t=2 m=19456 KiB, $(nproc) cores, $n x 2 shares, $clients clients"
serve "$work/bench.db" sqlite
token=$("$shcx" share user add bench --db "$work/bench.db" --pepper "$work/pepper" 2>/dev/null)
echo "SQLite, 1 instance:      $(reveals "$url" "$token" "$n" "$clients")"
stop_all

serve "$pguri" pg-a
a=$url
token=$("$shcx" share user add bench --db "$pguri" --pepper "$work/pepper" 2>/dev/null)
echo "PostgreSQL, 1 instance:  $(reveals "$a" "$token" "$n" "$clients")"
serve "$pguri" pg-b
echo "PostgreSQL, 2 instances: $(reveals "$a,$url" "$token" "$n" "$clients")"
stop_all
