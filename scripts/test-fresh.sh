#!/bin/bash
# The README's two commands, as a new user runs them, on a fresh Debian root:
#   scripts/test-fresh.sh bookworm|trixie [--package OUTDIR] [--gates SECONDS]
# Makes the root (scripts/lib/fresh_root.sh), clones this repository's HEAD (its committed
# state, not the work tree) into /src there, and runs scripts/demo.sh, then scripts/test.sh,
# as root with a clean environment and no stdin. Each phase logs to
# build-fresh/RELEASE/PHASE.log and prints its elapsed time; a failing phase prints the tail of
# its log and the script exits non-zero. ctest's full logs are kept as
# build-fresh/RELEASE/ctest-*.log, and the git bearer tests' lines are printed. The root is always removed, on failure and on
# interrupt too. FRESH_ROOT_CACHE= (empty) makes the root without the base-root cache.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage="usage: scripts/test-fresh.sh bookworm|trixie [--package OUTDIR] [--gates SECONDS]"
release=${1:-}
case "$release" in
  bookworm | trixie) shift ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
# --package OUTDIR: after test.sh, scripts/package.sh in the same root, without the unit tests
# test.sh has just run there (DEB_BUILD_OPTIONS=nocheck), and the .deb, its -dbgsym,
# .buildinfo and .changes copied to OUTDIR (CI builds Debian 13's package so; docs/packaging.md).
# --gates SECONDS: then the lint gates but clang-format (its output differs between
# releases; the host's CI gate decides the format), and every fuzz target for SECONDS, so
# that CI runs them on this release too.
package_dir=
gates_seconds=
while [ $# -gt 0 ]; do
  case "$1" in
    --package) package_dir=${2:?$usage}; shift 2 ;;
    --gates) gates_seconds=${2:?$usage}; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case "$gates_seconds" in
  *[!0-9]*) echo "$usage" >&2; exit 2 ;;
esac
if [ -n "$package_dir" ]; then
  mkdir -p "$package_dir"
  package_dir=$(cd "$package_dir" && pwd)
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-fresh: making a root needs root; run it with sudo" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  echo "test-fresh: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# shellcheck source=scripts/lib/fresh_root.sh
. scripts/lib/fresh_root.sh

logs=$root/build-fresh/$release
mkdir -p "$logs"
rm -f "$logs"/*.log
commit=$(git rev-parse HEAD)
dir=$(fresh_root_tmpdir)
total_start=$SECONDS

# ctest's logs, kept when the root is removed.
save_ctest_logs() {
  local kind
  for kind in build build-asan; do
    cp "$dir/src/$kind/Testing/Temporary/LastTest.log" "$logs/ctest-$kind.log" 2>/dev/null || true
  done
}

# Runs phase $1 (the rest: a command) with its output in $logs/$1.log, prints its elapsed
# time, or fails with its tail. Commands inside the root run in the background, so that an
# interrupt reaches the traps at once; making the root runs here, as it sets those traps.
phase() {
  local name=$1 start=$SECONDS status=0
  shift
  if [ "$name" = root ]; then
    "$@" >"$logs/$name.log" 2>&1 </dev/null || status=$?
  else
    "$@" >"$logs/$name.log" 2>&1 </dev/null &
    wait $! || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    echo "test-fresh $release: $name FAILED (exit $status) after $((SECONDS - start)) s; the end of $logs/$name.log:" >&2
    tail -n 60 "$logs/$name.log" >&2
    save_ctest_logs
    exit 1
  fi
  echo "test-fresh $release: $name passed in $((SECONDS - start)) s"
}

clone() {
  git clone -q --no-hardlinks "$root" "$dir/src"
  git -C "$dir/src" checkout -q --detach "$commit"
}

echo "test-fresh $release: commit $commit, root $dir"
phase root fresh_root_make "$release" "$dir"
phase clone clone
phase demo fresh_root_run "$dir" sh -c 'cd /src && scripts/demo.sh'
phase demo-installed-no-node fresh_root_run "$dir" sh -c '! dpkg -s nodejs npm 2>/dev/null | grep -q "^Status: install ok"'
phase test fresh_root_run "$dir" sh -c 'cd /src && CI=true scripts/test.sh'
save_ctest_logs
if [ -n "$package_dir" ]; then
  phase package fresh_root_run "$dir" env DEB_BUILD_OPTIONS=nocheck \
    sh -c 'cd /src && rm -rf dist && scripts/package.sh dist'
  cp "$dir"/src/dist/iotspot-helper_* "$package_dir/"
fi
if [ -n "$gates_seconds" ]; then
  phase lint fresh_root_run "$dir" sh -c 'cd /src && scripts/lint.sh shell js python tidy layers'
  phase fuzz fresh_root_run "$dir" sh -c "cd /src && scripts/fuzz.sh $gates_seconds"
fi
echo "test-fresh $release: the git 2.46+ bearer tests (tests/e2e/test_git_credential.py):"
grep -h 'BearerGitTest' "$logs/ctest-build.log" | sed 's/^/  /' || echo "  (not found in the log)"
fresh_root_cleanup_all
echo "test-fresh $release: all passed in $((SECONDS - total_start)) s"
