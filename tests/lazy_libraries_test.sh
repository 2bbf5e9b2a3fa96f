#!/usr/bin/env bash
# Libraries opened when first used (lib/shcx/detail/*_api.cpp, docs/performance.md
# "Start-up"): `shcx` does not list them as needed, a decode or verify of a card text loads
# none of them, the commands that use them do load them, and a copy that cannot be loaded
# gives one INTERNAL line naming it, exit 2.
# Usage: lazy_libraries_test.sh SHCX SOURCE_DIR
set -euo pipefail
shcx=$(realpath "${1:?usage: lazy_libraries_test.sh SHCX SOURCE_DIR}")
src=$(realpath "${2:?usage: lazy_libraries_test.sh SHCX SOURCE_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHCX_TRUST=$work/trust
lazy=(libcurl.so.4 libpq.so.5 libsqlite3.so.0 libargon2.so.1 libqrencode.so.4 libstb.so.0)
fail() { echo "lazy-libraries: $*" >&2; exit 1; }

needed=$(readelf -d "$shcx" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in "${lazy[@]}"; do
  ! grep -qx "$lib" <<<"$needed" || fail "shcx lists $lib as needed"
done

# The libraries a command loaded, from the dynamic loader's own log.
# The command's own status is not the point here (verify of an untrusted card exits 1).
loaded() { { LD_DEBUG=files "$@" 2>&1 >/dev/null || true; } | sed -n 's/.*file=\([^ ]*\) .*/\1/p' | sort -u; }
card=$src/testdata/cards/covid-three-doses.smart-health-card
for cmd in decode verify; do
  got=$(loaded "$shcx" "$cmd" "$card")
  grep -qx libcrypto.so.3 <<<"$got" || fail "the loader log of $cmd names no libcrypto: is LD_DEBUG working?"
  for lib in "${lazy[@]}"; do
    ! grep -qx "$lib" <<<"$got" || fail "shcx $cmd loaded $lib"
  done
done

expect_loads() {  # LIBRARY COMMAND...
  local lib=$1; shift
  grep -qx "$lib" <<<"$(loaded "$@")" || fail "$* did not load $lib"
}
db=$work/share.db
expect_loads libstb.so.0 "$shcx" decode "$src/testdata/cards/covid-three-doses.png"
expect_loads libqrencode.so.4 "$shcx" issue --key "$src/testdata/issuer/key.jwk" --iss https://issuer.shcx.example/demo \
  --qr "$work/card.png" "$src/testdata/bundles/covid-three-doses.json"
[ -s "$work/card.png" ] || fail "issue --qr wrote no PNG"
expect_loads libsqlite3.so.0 "$shcx" share user add ops --db "$db"
expect_loads libargon2.so.1 "$shcx" share create "$card" --db "$db" --public-url https://share.example

# A library that is there but broken: the command says so, naming it, and exits 2.
expect_broken() {  # LIBRARY COMMAND...
  local lib=$1 code=0 err; shift
  mkdir -p "$work/junk-$lib"
  echo "not a library" > "$work/junk-$lib/$lib"
  err=$(LD_LIBRARY_PATH=$work/junk-$lib "$@" 2>&1 >/dev/null) || code=$?
  [ "$code" -eq 2 ] || fail "$* with a broken $lib exited $code, not 2: $err"
  grep -qE "^shcx: error: (.*: )?INTERNAL: cannot load $lib: " <<<"$err" || fail "$* with a broken $lib said: $err"
  [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$* with a broken $lib said more than one line: $err"
}
expect_broken libstb.so.0 "$shcx" decode "$src/testdata/cards/covid-three-doses.png"
expect_broken libqrencode.so.4 "$shcx" issue --key "$src/testdata/issuer/key.jwk" \
  --iss https://issuer.shcx.example/demo --qr "$work/broken.png" "$src/testdata/bundles/covid-three-doses.json"
[ ! -e "$work/broken.png" ] || fail "issue --qr with a broken libqrencode left $work/broken.png"
expect_broken libsqlite3.so.0 "$shcx" share user add ops2 --db "$work/other.db"
expect_broken libargon2.so.1 "$shcx" share create "$card" --db "$db" --public-url https://share.example
echo "lazy-libraries: ${#lazy[@]} libraries not needed at start-up; each loaded by the command that uses it; broken copies reported"
