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
  if [ "$kind" = asan ]; then
    # LeakSanitizer's tracer crashes now and then ("Tracer caught signal 11") while it stops
    # the threads of a multi-threaded helper (prefetch, the fleet's waiters) at exit; seen on
    # Debian 12's GCC 12. Leaks stay checked in the unit tests and the fuzz-corpus replays;
    # the end-to-end suites run with ASan and UBSan but without the leak check until that is
    # understood (docs/architecture.md, Tests).
    ctest --test-dir "$dir" --output-on-failure --timeout 1500 -j2 -E '^e2e: '
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1 \
      ctest --test-dir "$dir" --output-on-failure --timeout 1500 -j2 -R '^e2e: '
  else
    ctest --test-dir "$dir" --output-on-failure --timeout 1500 -j2
  fi
done
