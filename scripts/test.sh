#!/bin/sh
# Bootstraps, builds and runs every test through ctest, twice: a normal build, and one with
# AddressSanitizer and UndefinedBehaviorSanitizer. Both with warnings as errors.
set -eu
cd "$(dirname "$0")/.."

scripts/bootstrap.sh --test

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for kind in normal asan; do
  echo "== $kind build"
  scripts/build.sh "$kind"
  dir=build
  [ "$kind" = asan ] && dir=build-asan
  echo "== $kind tests"
  ctest --test-dir "$dir" --output-on-failure --timeout 900 -j2
done
