#!/bin/sh
# Builds the libFuzzer harnesses (tests/fuzz) with clang, ASan and UBSan into build-fuzz/ and
# runs each for SECONDS (default 60), two at a time. Fails when any target finds a crash, a
# leak or a failed check; the input that did it is saved in build-fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS]
#   scripts/fuzz.sh --list        the targets, one per line (a ctest checks them against CMake's)
# New inputs go to build-fuzz/corpus/<target>/, never into the source tree: a crash that is
# fixed becomes a file in tests/fuzz/corpus/<target>/ in the same commit as its fix.
set -eu
cd "$(dirname "$0")/.."

# The targets: the one list, set(fuzz_targets ...) in tests/fuzz/CMakeLists.txt, which may
# run over several lines.
targets=$(sed -n '/^set(fuzz_targets /,/)/p' tests/fuzz/CMakeLists.txt |
  sed 's/^set(fuzz_targets //; s/).*$//' | tr -s ' \n' '  ')
[ -n "$targets" ] || { echo "fuzz.sh: no fuzz_targets in tests/fuzz/CMakeLists.txt" >&2; exit 1; }
if [ "${1:-}" = --list ]; then
  # shellcheck disable=SC2086 # the target names split on white space
  printf '%s\n' $targets
  exit 0
fi
seconds=${1:-60}
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] | --list" >&2; exit 2 ;;
esac
dir=build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DIOTSPOT_FUZZ=ON -DIOTSPOT_TESTS=OFF \
  -DIOTSPOT_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
build_targets=""
for t in $targets; do build_targets="$build_targets fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$dir" --target $build_targets -- -j2

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Runs one target in the background; its log is $dir/logs/<target>.log. libFuzzer stops
# itself after max_total_time; `timeout` is the deadline should it not.
# token_reply runs without the leak check: a Poco exception caught in jwt_times() shows as
# a leaked string per input under libFuzzer only (whose runtime carries its own C++ library),
# never under plain ASan with clang or gcc (checked over 60,000 calls); the ASan build's
# ctest replays its corpus with the leak check on.
start() {
  mkdir -p "$dir/corpus/$1" "$dir/artifacts/$1" "$dir/logs"
  leaks=1
  case "$1" in token_reply) leaks=0 ;; esac
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=$leaks" \
    timeout --kill-after=10 "$((seconds + 120))" "$dir/tests/fuzz/fuzz_$1" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -detect_leaks="$leaks" \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$1/" \
    "$dir/corpus/$1" "tests/fuzz/corpus/$1" >"$dir/logs/$1.log" 2>&1 &
  pids="$pids $!"
  names="$names $1"
  running=$((running + 1))
}

# Waits for the started targets and reports each.
finish() {
  # shellcheck disable=SC2086 # the names are the fixed target names above
  set -- $names
  for pid in $pids; do
    if wait "$pid"; then
      echo "fuzz: $1: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/logs/$1.log" |
        grep -o '[0-9]*$') runs in ${seconds} s, no crash"
    else
      failed="$failed $1"
      echo "fuzz: $1 FAILED; log $dir/logs/$1.log, input in $dir/artifacts/$1/:" >&2
      tail -n 40 "$dir/logs/$1.log" >&2
    fi
    shift
  done
  pids=""
  names=""
  running=0
}

failed=""
pids=""
names=""
running=0
for t in $targets; do
  start "$t"
  [ "$running" -lt 2 ] || finish
done
finish

if [ -n "$failed" ]; then
  echo "fuzz: crashes in:$failed" >&2
  exit 1
fi
