#!/usr/bin/env bash
# The built shcx loads no shared library from the working directory: an empty run-path
# entry ("::::", which CMake once padded the binary with) means the current directory to
# the loader. Every library shcx needs is planted, as junk, in a scratch directory, and
# `shcx --version` must still run from there.
# Usage: runpath_test.sh SHCX
set -euo pipefail
shcx=$(realpath "${1:?usage: runpath_test.sh SHCX}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
planted=0
while read -r lib; do
  echo "not a library" > "$work/$lib"
  planted=$((planted + 1))
done < <(readelf -d "$shcx" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ "$planted" -gt 3 ] || { echo "runpath: readelf found only $planted needed libraries" >&2; exit 1; }
if readelf -d "$shcx" | grep -E '\((RUNPATH|RPATH)\)' | grep -qE '\[(:|.*::|.*:\])'; then
  echo "runpath: an empty run-path entry: $(readelf -d "$shcx" | grep -E 'RUNPATH|RPATH')" >&2
  exit 1
fi
out=$(cd "$work" && "$shcx" --version 2>&1) || { echo "runpath: shcx failed in a directory of planted libraries: $out" >&2; exit 1; }
echo "runpath: $planted planted libraries ignored; $out"
