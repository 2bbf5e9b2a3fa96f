#!/usr/bin/env bash
# Checks that every C++ file follows .clang-format (clang-format 14). Lists the files that
# do not and exits 1; changes nothing. To fix: clang-format -i FILE...
# Usage: scripts/check-format.sh [FILE...]     (default: every tracked .cpp/.h)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
clang_format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$clang_format" ]; then
  echo "check-format: clang-format not found (apt-get install clang-format)" >&2
  exit 2
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -v '^tests/browser/')
fi
bad=0
for f in "${files[@]}"; do
  if ! "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "$f"
    bad=$((bad + 1))
  fi
done
if [ $bad -gt 0 ]; then
  echo "check-format: $bad of ${#files[@]} files differ from .clang-format (clang-format -i FILE to fix)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
