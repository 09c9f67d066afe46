#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build, test, demo and benchmark
# iotspot-helper. Idempotent: installs nothing when everything is there.
set -eu

packages="
  build-essential cmake ninja-build pkg-config clang-format
  libpoco-dev libsqlite3-dev libsodium-dev catch2
  python3 openssl ca-certificates curl git
  bash dash zsh fish
  hyperfine time
"

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
