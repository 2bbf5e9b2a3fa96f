#!/usr/bin/env bash
# The systemd units in contrib/systemd/, filled in as `cmake --install` does (with this
# build's shcx as the binary): `systemd-analyze verify` accepts them where it is
# installed; the fields that matter are checked either way; and every option their
# ExecStart lines pass is one shcx knows.
set -euo pipefail
src=$1 shcx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "systemd units: FAIL: $*" >&2; exit 1; }
bindir=$(cd "$(dirname "$shcx")" && pwd)
[ "$(basename "$shcx")" = shcx ] || fail "the binary must be named shcx, not $(basename "$shcx")"

for f in "$src"/contrib/systemd/*.service.in "$src"/contrib/systemd/*.timer; do
  name=$(basename "$f" .in)
  sed "s|@CMAKE_INSTALL_FULL_BINDIR@|$bindir|g" "$f" >"$work/$name"
  ! grep -q '@[A-Z_]*@' "$work/$name" || fail "$name: a placeholder is left: $(grep -o '@[A-Z_]*@' "$work/$name" | head -1)"
done
[ -f "$work/shcx-trust-sync.service" ] && [ -f "$work/shcx-trust-sync.timer" ] && [ -f "$work/shcx-share.service" ] ||
  fail "missing units: $(ls "$work")"

has() {  # unit, exact line
  grep -qxF -- "$2" "$work/$1" || fail "$1: no line '$2'"
}
for u in shcx-trust-sync.service shcx-share.service; do
  for line in User=shcx Group=shcx NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    PrivateDevices=yes RestrictAddressFamilies="AF_UNIX AF_INET AF_INET6" CapabilityBoundingSet= LimitCORE=0 \
    SystemCallFilter=@system-service; do
    has $u "$line"
  done
  exec_line=$(grep '^ExecStart=' "$work/$u")
  [[ $exec_line == "ExecStart=$bindir/shcx "* ]] || fail "$u: ExecStart does not run the installed binary by its full path: $exec_line"
done
has shcx-trust-sync.service Type=oneshot
has shcx-trust-sync.service StateDirectory=shcx/trust
has shcx-trust-sync.service StateDirectoryMode=0755
has shcx-trust-sync.service "ExecStart=$bindir/shcx trust sync --store %S/shcx/trust"
has shcx-trust-sync.timer OnCalendar=daily
has shcx-trust-sync.timer RandomizedDelaySec=4h
has shcx-trust-sync.timer Persistent=true
has shcx-trust-sync.timer WantedBy=timers.target
has shcx-share.service StateDirectory=shcx/share
has shcx-share.service StateDirectoryMode=0700
has shcx-share.service EnvironmentFile=/etc/shcx/share.env

# Every --option on an ExecStart line is in the subcommand's --help.
check_options() {  # unit, subcommand words...
  local u=$1; shift
  local help opt
  help=$("$shcx" "$@" --help)
  for opt in $(grep '^ExecStart=' "$work/$u" | grep -o -- ' --[a-z-]*' ); do
    grep -q -- "$opt" <<<"$help" || fail "$u: shcx $* has no option $opt"
  done
}
check_options shcx-trust-sync.service trust sync
check_options shcx-share.service share serve

if command -v systemd-analyze >/dev/null; then
  # --man=no: the man pages are not installed here. A unit that fails to parse, names a
  # missing binary or an unknown setting makes verify print and fail.
  out=$(cd "$work" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no ./shcx-trust-sync.service \
    ./shcx-trust-sync.timer ./shcx-share.service 2>&1) || fail "systemd-analyze verify: $out"
  # Warnings (unknown or misspelt settings) do not change its exit status: none allowed.
  [ -z "$(grep -v -e 'is not a valid unit name' -e "Failed to open /dev/tty" <<<"$out" | grep "$work" || true)" ] ||
    fail "systemd-analyze verify: $out"
  echo "systemd units: systemd-analyze verify passed"
else
  echo "systemd units: systemd-analyze not installed; checked the fields only"
fi
