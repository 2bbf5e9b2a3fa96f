#!/usr/bin/env bash
# Installs shcx into a temporary prefix, static (from build/, or $SHCX_BUILD_DIR) and
# shared (-DBUILD_SHARED_LIBS=ON, in build-shared/), checks what was installed, and builds
# examples/ against each install twice -- with find_package(shcx) and with pkg-config --
# then runs the example on the project's test cards. Used by .ci/run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
static_build=${SHCX_BUILD_DIR:-$root/build}
shared_build=${SHCX_SHARED_BUILD_DIR:-$root/build-shared}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
say() { echo "test-install: $*" >&2; }

check_prefix() {  # prefix, kind (static|shared)
  local p=$1 kind=$2 f
  for f in bin/shcx share/man/man1/shcx.1 share/man/man1/shcx-verify.1 include/shcx/shcx.h include/shcx/verify/verify.h include/shcx/error_codes.def \
    lib/cmake/shcx/shcxConfig.cmake lib/cmake/shcx/shcxConfigVersion.cmake lib/pkgconfig/shcx.pc \
    share/bash-completion/completions/shcx share/zsh/site-functions/_shcx \
    share/shcx/systemd/shcx-trust-sync.service share/shcx/systemd/shcx-trust-sync.timer \
    share/shcx/systemd/shcx-share.service share/shcx/systemd/shcx.sysusers; do
    [ -e "$p/$f" ] || fail "$kind: $f not installed"
  done
  # The units run the binary of this install, by its full path.
  for f in shcx-trust-sync.service shcx-share.service; do
    grep -q "^ExecStart=$p/bin/shcx " "$p/share/shcx/systemd/$f" || fail "$kind: $f does not run $p/bin/shcx"
  done
  [ ! -e "$p/include/shcx/detail" ] || fail "$kind: internal headers (detail/) installed"
  if [ "$kind" = static ]; then
    [ -f "$p/lib/libshcx.a" ] || fail "static: lib/libshcx.a not installed"
  else
    { [ -L "$p/lib/libshcx.so" ] && [ -e "$p/lib/libshcx.so" ]; } || fail "shared: lib/libshcx.so not installed"
  fi
  file -L "$p/bin/shcx" | grep -q ", stripped" || fail "$kind: bin/shcx is not stripped"
  # The umbrella header names every installed public header.
  local h
  while read -r h; do
    grep -qxF "#include \"shcx/$h\"" "$p/include/shcx/shcx.h" || fail "$kind: shcx.h does not include $h"
  done < <(cd "$p/include/shcx" && find . -name '*.h' ! -name shcx.h | sed 's|^\./||')
  "$p/bin/shcx" --version >/dev/null || fail "$kind: the installed shcx does not run"
}

run_example() {  # binary, kind
  local bin=$1 kind=$2 out code
  cd "$root"
  out=$("$bin" https://issuer.shcx.example/demo testdata/issuer/jwks.json testdata/cards/covid-three-doses.png \
    testdata/cards/two-people.smart-health-card)
  [ "$out" = "valid  testdata/cards/covid-three-doses.png  Adaeze N. Okafor
valid  testdata/cards/two-people.smart-health-card  Camille Moreau  Lucas Moreau" ] ||
    fail "$kind: example output:
$out"
  set +e
  out=$("$bin" https://other.example testdata/issuer/jwks.json testdata/cards/lab-result.txt)
  code=$?
  set -e
  [ $code -eq 1 ] || fail "$kind: example exit $code for an untrusted card, want 1"
  [[ $out == "untrusted_issuer  testdata/cards/lab-result.txt  "*"  ISSUER_NOT_TRUSTED" ]] ||
    fail "$kind: untrusted output: $out"
}

build_examples() {  # prefix, kind
  local p=$1 kind=$2 pcflags
  cmake -S "$root/examples" -B "$work/examples-$kind" -G Ninja -DCMAKE_PREFIX_PATH="$p" >/dev/null
  cmake --build "$work/examples-$kind" >/dev/null
  run_example "$work/examples-$kind/verify_card" "$kind (find_package)"
  if [ "$kind" = static ]; then
    pcflags=$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --static --cflags --libs shcx)
  else
    pcflags="$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --cflags --libs shcx) -Wl,-rpath,$p/lib"
  fi
  # shellcheck disable=SC2086
  c++ -std=c++20 -O1 "$root/examples/verify_card.cpp" -o "$work/verify_card_pc_$kind" $pcflags
  run_example "$work/verify_card_pc_$kind" "$kind (pkg-config)"
}

say "static: installing from $static_build"
SHCX_BUILD_DIR=$static_build SHCX_TARGET=shcx "$root/scripts/build.sh"  # up to date, configured as now
cmake --install "$static_build" --prefix "$work/static" --strip >/dev/null
check_prefix "$work/static" static
build_examples "$work/static" static

say "shared: building in $shared_build"
SHCX_BUILD_DIR=$shared_build SHCX_BUILD_TYPE=Release SHCX_TARGET=shcx "$root/scripts/build.sh" \
  -DBUILD_SHARED_LIBS=ON -DSHCX_BUILD_TESTS=OFF -DSHCX_BUILD_BENCH=OFF
cmake --install "$shared_build" --prefix "$work/shared" --strip >/dev/null
check_prefix "$work/shared" shared
build_examples "$work/shared" shared
say "static and shared installs build and run examples/ (find_package and pkg-config)"
