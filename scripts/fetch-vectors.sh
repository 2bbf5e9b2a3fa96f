#!/usr/bin/env bash
# The third-party conformance vectors (SMART Health Cards spec examples, a signed VCI
# directory snapshot, Wycheproof): where the tests find them, and how to get them.
#
#   scripts/fetch-vectors.sh            download every file in tests/vectors.sha256 from
#                                       where its authors publish it into the cache, check
#                                       its SHA-256, render the spec's QR SVGs to PNG.
#                                       Installs all or nothing; a no-op when complete.
#   scripts/fetch-vectors.sh --where    print the vectors directory the tests use, or exit 1
#   scripts/fetch-vectors.sh --check [DIR]  check DIR (default: --where's) against the list
#
# The tests look, in this order, in $SHCX_VECTORS, ../shared/vectors beside the checkout,
# and the cache ${XDG_CACHE_HOME:-~/.cache}/shcx/vectors (tests/support.cpp does the same).
# SHCX_VECTORS_BASE_URL=URL fetches https://HOST/PATH from URL/HOST/PATH instead (a
# mirror; the tests use a local server).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/tests/vectors.sha256
cache=${XDG_CACHE_HOME:-$HOME/.cache}/shcx/vectors
say() { echo "fetch-vectors: $*" >&2; }

where() {
  if [ -n "${SHCX_VECTORS:-}" ]; then
    echo "$SHCX_VECTORS"
  elif [ -d "$root/../shared/vectors" ]; then
    (cd "$root/../shared/vectors" && pwd)
  elif [ -d "$cache" ]; then
    echo "$cache"
  else
    return 1
  fi
}

# The list, as arrays; a path must stay inside the vectors directory.
sums=() paths=() urls=()
while read -r sum path url extra; do
  case "$sum" in "" | "#"*) continue ;; esac
  if ! [[ $sum =~ ^[0-9a-f]{64}$ && $path =~ ^[A-Za-z0-9][-A-Za-z0-9_./]*$ && $path != *..* &&
    $url =~ ^https:// && -z $extra ]]; then
    say "malformed line in $list: $sum $path $url $extra"
    exit 2
  fi
  sums+=("$sum") paths+=("$path") urls+=("$url")
done <"$list"

sha256() { sha256sum "$1" | cut -c1-64; }

check() {  # dir: every listed file present with its hash
  local dir=$1 bad=0 i sum path
  for i in "${!paths[@]}"; do
    sum=${sums[$i]} path=${paths[$i]}
    if [ ! -f "$dir/$path" ]; then
      say "$dir/$path: missing"
      bad=1
    elif [ "$(sha256 "$dir/$path")" != "$sum" ]; then
      say "$dir/$path: SHA-256 $(sha256 "$dir/$path"), expected $sum"
      bad=1
    fi
  done
  [ $bad -eq 0 ] && say "$dir: all ${#paths[@]} files match tests/vectors.sha256"
  return $bad
}

fetch() {
  if [ -d "$cache" ] && check "$cache" 2>/dev/null; then
    say "already complete: $cache"
    return 0
  fi
  command -v curl >/dev/null || { say "needs curl (scripts/install-deps.sh)"; return 2; }
  mkdir -p "$(dirname "$cache")"
  local tmp
  tmp=$(mktemp -d "$(dirname "$cache")/.vectors-XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  local i sum path url from got
  for i in "${!paths[@]}"; do
    sum=${sums[$i]} path=${paths[$i]} url=${urls[$i]}
    from=$url
    [ -z "${SHCX_VECTORS_BASE_URL:-}" ] || from=${SHCX_VECTORS_BASE_URL%/}/${url#https://}
    mkdir -p "$(dirname "$tmp/$path")"
    # GitHub's blob API answers with the file itself when asked for the raw media type.
    if ! curl -fsSL --proto '=https,http' --connect-timeout 20 --max-time 300 --max-filesize 67108864 --retry 2 \
      -H 'Accept: application/vnd.github.raw+json' -o "$tmp/$path" "$from"; then
      say "cannot download $from; nothing installed"
      return 1
    fi
    got=$(sha256 "$tmp/$path")
    if [ "$got" != "$sum" ]; then
      say "$path from $from has SHA-256 $got, expected $sum; nothing installed"
      return 1
    fi
  done
  local svg
  for svg in "$tmp"/spec-examples/*-g-qr-code-*.svg; do
    [ -e "$svg" ] || continue
    python3 "$root/scripts/render-qr-svg.py" "$svg" "${svg%.svg}.png"
  done
  rm -rf "$cache.old"
  [ ! -d "$cache" ] || mv "$cache" "$cache.old"
  mv "$tmp" "$cache"
  rm -rf "$cache.old"
  trap - EXIT
  say "${#paths[@]} files checked and installed in $cache"
}

case "${1:-}" in
  --where) where ;;
  --check)
    dir=${2:-$(where)} || { say "no vectors found: run scripts/fetch-vectors.sh"; exit 1; }
    check "$dir"
    ;;
  "") fetch ;;
  *) say "usage: fetch-vectors.sh [--where | --check [DIR]]"; exit 2 ;;
esac
