#!/bin/bash
# A cross build in a throwaway root, as `scripts/package.sh --arch ARCH [OUTDIR]` runs it:
#
#   scripts/package/cross-build.sh ARCH OUTDIR
#
# Cross-building installs ARCH's -dev packages (libpoco-dev:arm64, ...), and some cannot
# stand beside the native ones: apt would remove this machine's libpoco-dev:amd64 to make
# room. So the build runs in a fresh root of this machine's Debian release
# (scripts/lib/fresh_root.sh), never in this machine's dpkg: it copies the files git tracks
# (and untracked ones it does not ignore) to /src there and runs
# `scripts/package.sh --no-root --arch ARCH` inside, which adds the architecture, installs
# crossbuild-essential-ARCH and the build dependencies for ARCH and builds (the unit tests
# under qemu-user). Then, in the same root, scripts/package/check-cross.sh checks the
# package's contents and Depends against ARCH's installed libraries and runs the smoke test
# under qemu-user. The package and its companions are copied to OUTDIR; the root is removed.
# Needs root (debootstrap, chroot); DEB_BUILD_OPTIONS is passed on.
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=${1:?usage: scripts/package/cross-build.sh ARCH OUTDIR}
out=${2:?usage: scripts/package/cross-build.sh ARCH OUTDIR}
say() { echo "package.sh: $*"; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "package.sh: a cross build makes a throwaway root: run it as root or with sudo" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
# shellcheck disable=SC1091
release=$(. /etc/os-release && echo "$VERSION_CODENAME")

# shellcheck source=scripts/lib/fresh_root.sh
. scripts/lib/fresh_root.sh
dir=$(fresh_root_tmpdir)
say "cross-building for $arch in a throwaway $release root ($dir)"
fresh_root_make "$release" "$dir"
mkdir -p "$dir/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
    tar -cf - --null -T - | tar -xf - -C "$dir/src"
else
  tar -cf - --exclude='./build*' --exclude='./dist*' --exclude=./.git . | tar -xf - -C "$dir/src"
fi
fresh_root_run "$dir" env DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
  sh -c "cd /src && scripts/package.sh --no-root --arch $arch dist" </dev/null
# check-cross.sh's own tools: the test token server and its PKI, curl.
fresh_root_run "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends python3 openssl curl >/dev/null
# Copied out first, so that a failing check leaves the package to look at.
cp "$dir"/src/dist/* "$out/"
fresh_root_run "$dir" sh -c "cd /src && scripts/package/check-cross.sh dist/iotspot-helper_*_$arch.deb" </dev/null
fresh_root_cleanup_all
say "built $(ls "$out"/iotspot-helper_*_"$arch".deb)"
