#!/bin/sh
# Installs the Debian packages a fresh Debian 12 or 13 machine lacks. Idempotent: installs
# nothing when everything is there.
#   scripts/bootstrap.sh          what building and running iotspot-helper needs (demo.sh)
#   scripts/bootstrap.sh --test   that, plus the tests' toolchain (test.sh): Node.js, npm,
#                                 newman and bru (npm ci into build-node/), zsh, fish, ...
set -eu

with_tests=false
case "${1:-}" in
  "") ;;
  --test) with_tests=true ;;
  *) echo "usage: scripts/bootstrap.sh [--test]" >&2; exit 2 ;;
esac

# Package names that differ between releases.
# shellcheck disable=SC1091
release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case "$release" in
  bullseye | bookworm) catch2=catch2 ;; # Catch2 2.13
  *) catch2=libcatch2-dev ;;             # Catch2 3.x (Debian 13 and later)
esac
# The shared-tier tests (tests/e2e/test_fleet*.py) run a real Redis or Valkey, as a Sentinel
# too, and the CLI that makes a Cluster: Debian 12 ships redis-server, Debian 13 valkey-server
# (its redis-server is a different licence's line).
case "$release" in
  bullseye | bookworm) redis="redis-server redis-sentinel redis-tools" ;;
  *) redis="valkey-server valkey-sentinel valkey-tools" ;;
esac

# Build and runtime: compiler, libraries, the unit tests' Catch2 (the build compiles them),
# and what demo.sh runs (python3 and openssl for the local token server, curl).
packages="
  build-essential cmake ninja-build pkg-config
  libpoco-dev libhiredis-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libsqlite3-dev
  libsodium-dev $catch2
  python3 openssl ca-certificates curl git
"

# The tests' toolchain, one package or group per line.
test_packages="
  clang-format
  bash dash zsh fish strace util-linux
  faketime
  bash-completion mandoc man-db
  hyperfine time
  dpkg-dev lintian
  $redis
  httpie
  systemd
  python3-yaml python3-requests
  prometheus
  clang libclang-rt-dev clang-tidy shellcheck pyflakes3
"
if $with_tests; then
  packages="$packages $test_packages"
  # Node.js and npm for the API-client tests (tests/node): Debian's, unless a node and npm of
  # another origin (NodeSource, nvm) are already on PATH, whose packages would conflict.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages="$packages nodejs npm"
  fi
fi

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "bootstrap: installing$missing"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

$with_tests || exit 0

# newman and bru, pinned by tests/node/package-lock.json, installed into build-node/ (ignored by
# git, and outside the source folders, whose files the project's own checks read), when
# node_modules is missing or older than the lock file. npm ci writes
# node_modules/.package-lock.json last, so a half-finished install is redone.
# --ignore-scripts: no package runs code at install time (none needs to).
root="$(cd "$(dirname "$0")/.." && pwd)"
node_dir="$root/build-node"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "bootstrap: node $(node --version) is too old for the API-client tests; 18 or newer is needed" >&2
  exit 1
fi
# shellcheck disable=SC3013 # -nt: in dash (Debian's sh), bash and busybox sh alike
if [ ! -f "$node_dir/node_modules/.package-lock.json" ] ||
   [ "$root/tests/node/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
  echo "bootstrap: installing newman and bru (npm ci in build-node)"
  mkdir -p "$node_dir"
  cp "$root/tests/node/package.json" "$root/tests/node/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
