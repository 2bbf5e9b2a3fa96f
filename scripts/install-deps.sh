#!/usr/bin/env bash
# Installs every build, test and runtime dependency of shcx from Debian packages.
# Used by both README set-up commands and by .ci/run; safe to run again.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libcli11-dev libssl-dev openssl zlib1g-dev libzxing-dev libcurl4-openssl-dev
  nlohmann-json3-dev doctest-dev libqrencode-dev libstb-dev libsqlite3-dev
  libcpp-httplib-dev libargon2-dev libboost-dev
  libpq-dev postgresql
  libdeflate-dev libsimdjson-dev libzbar-dev libmimalloc-dev liburing-dev
  zbar-tools python3 python3-jsonschema bc curl jq zsh systemd
  chromium clang libclang-rt-14-dev clang-format clang-tidy
)
# Node.js runs the browser test (playwright-core from npm) and the interop test
# (kill-the-clipboard from npm, which needs Node 20: Debian 12's is 18, so that test is
# skipped there). A machine may already have its own (e.g. NodeSource's nodejs, which
# bundles npm): only add Debian's when missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
