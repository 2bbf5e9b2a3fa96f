#!/usr/bin/env bash
# The library boundaries of issue 17, checked on the source tree:
#   - no file under lib/ is over 400 lines (small modules, one job each);
#   - lib/ never touches the process: no getenv, stdin/stdout/stderr, signals, kill or
#     exit (the tool owns all of that; lib returns Result values);
#   - tools/ and bench/ include no shcx/detail/ header (internal to lib).
# Before scanning, the patterns are tried on sample lines, so a pattern that stopped
# matching fails the test instead of passing everything.
# Usage: lib_boundaries_test.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: lib_boundaries_test.sh SOURCE_DIR}" && pwd)
cd "$src"
max_lines=400
status=0

# Calls and streams that reach the process. Comments are dropped before matching (a
# comment may well say "the tool owns signals").
process_calls='\b(getenv|secure_getenv|setenv|unsetenv|putenv|signal|sigaction|sigprocmask|pthread_sigmask|raise|kill|exit|_exit|_Exit|quick_exit|abort|atexit|system)[[:space:]]*\(|std::(cin|cout|cerr|clog)\b|\b(stdin|stdout|stderr|environ)\b'
detail_include='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]shcx/(.*/)?detail/'

# Tracked files in a git checkout (CI clones), every file otherwise (a source tarball).
files() {  # dir, name patterns...
  local dir=$1
  shift
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    local specs=()
    for p in "$@"; do specs+=("$dir/$p"); done
    git ls-files -- "${specs[@]}"
  else
    local names=()
    for p in "$@"; do names+=(-o -name "$p"); done
    find "$dir" -type f \( "${names[@]:1}" \) | sort
  fi
}

strip_comments() { sed -e 's://.*$::'; }

flags() {  # pattern, line: prints "yes" when the line (comments dropped) matches
  if printf '%s\n' "$2" | strip_comments | grep -Eq "$1"; then echo yes; else echo no; fi
}
selftest() {  # pattern, want, line
  if [ "$(flags "$1" "$3")" != "$2" ]; then
    echo "FAIL self-test: want $2 for [$3]" >&2
    status=1
  fi
}
selftest "$process_calls" yes '    const char* home = std::getenv("HOME");'
selftest "$process_calls" yes '    if (!std::getline(std::cin, line)) return {};'
selftest "$process_calls" yes '    ::kill(::getpid(), SIGTERM);'
selftest "$process_calls" yes '    pthread_sigmask(SIG_BLOCK, &set, nullptr);'
selftest "$process_calls" yes '    struct sigaction sa{}; sigaction(SIGINT, &sa, nullptr);'
selftest "$process_calls" yes '    if (bad) std::exit(2);'
selftest "$process_calls" yes '    fread(buf, 1, n, stdin);'
selftest "$process_calls" yes '    std::cerr << "oops\n";'
selftest "$process_calls" no '    ExitClass exit;  // how the tool exits'
selftest "$process_calls" no 'inline ExitClass exit_class(ErrorCode code) { return info(code).exit; }'
selftest "$process_calls" no '// the tool owns signals and calls stop(); never exit() here'
selftest "$detail_include" yes '#include "shcx/detail/json.h"'
selftest "$detail_include" yes '#  include <shcx/card/detail/x.h>'
selftest "$detail_include" no '#include "shcx/card/decode.h"'

# 1. File sizes.
while IFS= read -r f; do
  n=$(wc -l <"$f")
  if [ "$n" -gt "$max_lines" ]; then
    echo "FAIL $f: $n lines (at most $max_lines; split it into cohesive files)" >&2
    status=1
  fi
done < <(files lib '*')

# 2. lib/ does not touch the process.
while IFS= read -r f; do
  hits=$(strip_comments <"$f" | grep -nE "$process_calls" || true)
  if [ -n "$hits" ]; then
    while IFS= read -r hit; do
      echo "FAIL $f:$hit  (lib must not touch the process: return a Result and let tools/ do it)" >&2
    done <<<"$hits"
    status=1
  fi
done < <(files lib '*.cpp' '*.h')

# 3. tools/ and bench/ use the public headers only.
while IFS= read -r f; do
  hits=$(grep -nE "$detail_include" "$f" || true)
  if [ -n "$hits" ]; then
    echo "FAIL $f:$hits  (shcx/detail/ is internal to lib)" >&2
    status=1
  fi
done < <(files tools '*.cpp' '*.h'; files bench '*.cpp' '*.h')

if [ $status -eq 0 ]; then
  echo "lib boundaries: $(files lib '*' | wc -l) lib files within $max_lines lines and off the process;" \
    "tools and bench use public headers only"
fi
exit $status
