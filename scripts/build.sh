#!/bin/sh
# Configures and builds iotspot-helper with warnings as errors.
#   scripts/build.sh          -> build/
#   scripts/build.sh asan     -> build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer)
set -eu
cd "$(dirname "$0")/.."

kind=${1:-normal}
case "$kind" in
  normal) dir=build; extra="" ;;
  asan)   dir=build-asan; extra="-DIOTSPOT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" ;;
  *) echo "usage: scripts/build.sh [normal|asan]" >&2; exit 2 ;;
esac

# shellcheck disable=SC2086
cmake -S . -B "$dir" -G Ninja -DIOTSPOT_WERROR=ON $extra >/dev/null
cmake --build "$dir" -- -j"$(nproc)"
