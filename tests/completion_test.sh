#!/usr/bin/env bash
# The bash and zsh completions (contrib/completion/) against the built shcx: subcommands,
# nested subcommands, options by prefix, built-in policy names, files for values.
# Usage: completion_test.sh SOURCE_DIR SHCX_BINARY
set -euo pipefail
src=$(cd "${1:?usage: completion_test.sh SOURCE_DIR SHCX_BINARY}" && pwd)
shcx=${2:?usage: completion_test.sh SOURCE_DIR SHCX_BINARY}
cd "$src"
status=0
expect() {  # what, want, got
  if [ "$2" != "$3" ]; then
    echo "FAIL $1: want [$2], got [$3]" >&2
    status=1
  fi
}

# shellcheck disable=SC1091
source contrib/completion/shcx.bash
bash_complete() {
  COMP_WORDS=("$shcx" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _shcx
  echo "${COMPREPLY[*]}"
}
expect "bash: shcx ver" "verify" "$(bash_complete ver)"
expect "bash: shcx (all)" "verify decode trust share keygen issue" "$(bash_complete "")"
expect "bash: shcx verify --j" "--json --jwks --jobs" "$(bash_complete verify --j)"
expect "bash: shcx trust s" "sync status" "$(bash_complete trust s)"
expect "bash: shcx share user" "add list rotate remove" "$(bash_complete share user "")"
expect "bash: shcx verify --policy covid" "covid19-primary-series covid19-negative-test" \
  "$(bash_complete verify --policy covid)"
expect "bash: a file for --jwks" "testdata/issuer/jwks.json" "$(bash_complete verify --jwks testdata/issuer/jw)"
expect "bash: a file as input" "testdata/cards/two-people.png testdata/cards/two-people.smart-health-card testdata/cards/two-people.svg testdata/cards/two-people.txt" \
  "$(bash_complete decode testdata/cards/two-p | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
expect "bash: no option after a flag value" "--json" "$(bash_complete decode --json x --js)"
expect "bash: new options" "--ndjson" "$(bash_complete verify --nd)"
expect "bash: a file for --fhir-out (value named FILE)" "testdata/issuer/jwks.json" "$(bash_complete verify --fhir-out testdata/issuer/jw)"
expect "bash: a directory for --store (value named DIR)" "testdata/issuer" "$(bash_complete verify --store testdata/iss)"

# zsh: the completion function with compadd and _files recording what they were given.
zsh_out=$(SHCX="$shcx" zsh -f -c '
  compadd() { if [[ $1 == -a ]]; then print -r -- "${(P)2}"; else print -r -- "$*"; fi }
  _files() { print -r -- "(files)" }
  t() { words=($SHCX "$@"); CURRENT=$#words; PREFIX=$words[CURRENT]; source contrib/completion/_shcx }
  t ve; t verify --j; t trust s; t share user ""; t verify --policy c; t decode x')
expect "zsh" "verify decode trust share keygen issue
-h --help --json --ndjson -q --quiet --fhir-out --trust --store --jwks --crl --x5c-anchor --max-trust-age --at --jobs --policy --allow-expired --passcode --passcode-file --recipient --clock-skew --strict
sync status list add remove
add list rotate remove
covid19-primary-series any-immunization covid19-negative-test
(files)
(files)" "$zsh_out"
[ $status -eq 0 ] && echo "completion: all checks passed"
exit $status
