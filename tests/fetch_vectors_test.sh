#!/usr/bin/env bash
# scripts/fetch-vectors.sh against a local HTTP server on 127.0.0.1 that plays the
# upstream hosts, with a list of the project's own files (the real sources are not
# reachable from a test): downloads are checked and installed whole, a wrong checksum or a
# failed download installs nothing, the spec-style QR SVG renders to a PNG that shcx reads,
# and --where finds the directories in the documented order.
# Usage: fetch_vectors_test.sh SOURCE_DIR SHCX_BINARY
set -euo pipefail
src=$(cd "${1:?usage: fetch_vectors_test.sh SOURCE_DIR SHCX_BINARY}" && pwd)
shcx=${2:?usage: fetch_vectors_test.sh SOURCE_DIR SHCX_BINARY}
work=$(mktemp -d)
server=
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset SHCX_VECTORS SHCX_VECTORS_BASE_URL

# A checkout of the two scripts with a list of our own files (so ../shared is absent too).
repo=$work/checkout/shcx
mkdir -p "$repo/scripts" "$repo/tests"
cp "$src/scripts/fetch-vectors.sh" "$src/scripts/render-qr-svg.py" "$repo/scripts/"
www=$work/www
mkdir -p "$www/example.org/pub/cards" "$www/api.example.net/blobs"
cp "$src/testdata/cards/covid-three-doses.txt" "$www/example.org/pub/cards/card.txt"
# Our SVG writer draws filled rectangles; the spec draws stroked runs. Redraw ours the
# spec's way ("M{x} {y}h{w}v1h-{w}z" -> "M{x} {y+0.5}h{w}") for the renderer.
python3 - "$src/testdata/cards/covid-three-doses.svg" "$www/example.org/pub/cards/card-g-qr-code-0.svg" <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
d = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d)
assert runs and "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in runs) == d
size = re.search(r'viewBox="0 0 (\d+) ', svg).group(1)
path = "".join(f"M{x} {int(y)}.5h{w}" for x, y, w in runs)
open(sys.argv[2], "w").write(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
                             f'shape-rendering="crispEdges"><path fill="#ffffff" d="M0 0h{size}v{size}H0z"/>'
                             f'<path stroke="#000000" d="{path}"/></svg>\n')
PY
cp "$src/testdata/issuer/jwks.json" "$www/api.example.net/blobs/jwks"
sum() { sha256sum "$1" | cut -c1-64; }
write_list() {  # the jwks line's expected hash
  cat >"$repo/tests/vectors.sha256" <<EOF
# test list
$(sum "$www/example.org/pub/cards/card.txt")  spec-examples/card.txt  https://example.org/pub/cards/card.txt
$(sum "$www/example.org/pub/cards/card-g-qr-code-0.svg")  spec-examples/card-g-qr-code-0.svg  https://example.org/pub/cards/card-g-qr-code-0.svg

$1  keys/jwks.json  https://api.example.net/blobs/jwks
EOF
}
write_list "$(sum "$www/api.example.net/blobs/jwks")"

# The upstream hosts: a static server that stops by itself after two minutes.
python3 - "$www" "$work/port" <<'PY' &
import functools, http.server, os, sys, threading
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
threading.Timer(120, srv.shutdown).start()
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PY
server=$!
for _ in $(seq 600); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the test HTTP server did not start within 60 s"
base=http://127.0.0.1:$(cat "$work/port")

fetch() { XDG_CACHE_HOME=$work/cache SHCX_VECTORS_BASE_URL=$base "$repo/scripts/fetch-vectors.sh"; }
cache=$work/cache/shcx/vectors

# Nothing anywhere: --where fails.
if XDG_CACHE_HOME=$work/cache "$repo/scripts/fetch-vectors.sh" --where >/dev/null; then
  fail "--where found vectors where there are none"
fi

# A checksum mismatch installs nothing and leaves no partial download behind.
write_list 0000000000000000000000000000000000000000000000000000000000000000
if fetch 2>"$work/err"; then fail "a wrong checksum was accepted"; fi
grep -q "keys/jwks.json from $base/api.example.net/blobs/jwks has SHA-256 $(sum "$www/api.example.net/blobs/jwks"), expected 0000" \
  "$work/err" || fail "mismatch message: $(cat "$work/err")"
grep -q "nothing installed" "$work/err" || fail "mismatch message: $(cat "$work/err")"
[ ! -e "$cache" ] || fail "the cache was created despite a mismatch"
[ -z "$(find "$work/cache" -type f)" ] || fail "files left behind: $(find "$work/cache" -type f)"
write_list "$(sum "$www/api.example.net/blobs/jwks")"

# A failed download (404) installs nothing either.
mv "$www/example.org/pub/cards/card.txt" "$work/card.txt"
if fetch 2>"$work/err"; then fail "a missing upstream file was accepted"; fi
grep -q "cannot download $base/example.org/pub/cards/card.txt; nothing installed" "$work/err" ||
  fail "404 message: $(cat "$work/err")"
[ -z "$(find "$work/cache" -type f)" ] || fail "files left behind after a 404"
mv "$work/card.txt" "$www/example.org/pub/cards/card.txt"

# The good case: every file, checked, plus the rendered PNG.
fetch 2>"$work/err" || fail "fetch failed: $(cat "$work/err")"
grep -q "3 files checked and installed in $cache" "$work/err" || fail "success message: $(cat "$work/err")"
cmp "$cache/spec-examples/card.txt" "$src/testdata/cards/covid-three-doses.txt" || fail "card.txt differs"
cmp "$cache/keys/jwks.json" "$src/testdata/issuer/jwks.json" || fail "jwks.json differs"
[ "$(find "$work/cache" -type f | wc -l)" -eq 4 ] || fail "unexpected files: $(find "$work/cache" -type f)"
decoded() { "$shcx" decode --json "$1" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cards"][0]; c.pop("input"); c.pop("form"); print(json.dumps(c, sort_keys=True))'; }
[ "$(decoded "$cache/spec-examples/card-g-qr-code-0.png")" = "$(decoded "$src/testdata/cards/covid-three-doses.txt")" ] ||
  fail "the rendered PNG does not decode to the card"
"$repo/scripts/fetch-vectors.sh" --check "$cache" 2>/dev/null || fail "--check rejects a good cache"

# --where: the cache when alone; ../shared/vectors beside the checkout before it;
# SHCX_VECTORS before both.
[ "$(XDG_CACHE_HOME=$work/cache "$repo/scripts/fetch-vectors.sh" --where)" = "$cache" ] || fail "--where: cache"
mkdir -p "$work/checkout/shared/vectors"
[ "$(XDG_CACHE_HOME=$work/cache "$repo/scripts/fetch-vectors.sh" --where)" = "$work/checkout/shared/vectors" ] ||
  fail "--where: ../shared/vectors"
[ "$(SHCX_VECTORS=/elsewhere XDG_CACHE_HOME=$work/cache "$repo/scripts/fetch-vectors.sh" --where)" = /elsewhere ] ||
  fail "--where: SHCX_VECTORS"
rmdir "$work/checkout/shared/vectors"

# Complete already: no download (the server is gone), nothing changes.
kill "$server"
server=
fetch 2>"$work/err" || fail "a complete cache was fetched again: $(cat "$work/err")"
grep -q "already complete" "$work/err" || fail "no-op message: $(cat "$work/err")"

# A damaged cache fails --check, and a refetch that cannot download keeps the old cache.
echo tampered >>"$cache/spec-examples/card.txt"
if "$repo/scripts/fetch-vectors.sh" --check "$cache" 2>"$work/err"; then fail "--check accepted a damaged file"; fi
grep -q "spec-examples/card.txt: SHA-256 .*, expected" "$work/err" || fail "--check message: $(cat "$work/err")"
if fetch 2>/dev/null; then fail "fetch succeeded with no server"; fi
grep -q tampered "$cache/spec-examples/card.txt" || fail "the old cache was replaced by a failed fetch"
[ -z "$(find "$work/cache/shcx" -maxdepth 1 -name '.vectors-*')" ] || fail "a temporary download directory was left"

# A list line that would write outside the vectors directory is refused.
echo "$(sum "$src/testdata/cards/covid-three-doses.txt")  ../escape.txt  https://example.org/pub/cards/card.txt" \
  >>"$repo/tests/vectors.sha256"
set +e
"$repo/scripts/fetch-vectors.sh" --check "$cache" 2>"$work/err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "a path with .. gave exit $rc, want 2"
grep -q "malformed line" "$work/err" || fail "malformed-line message: $(cat "$work/err")"
echo "fetch-vectors: all checks passed"
