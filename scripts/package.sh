#!/bin/sh
# Builds the Debian package of iotspot-helper from debian/ with dpkg-buildpackage (debhelper,
# CMake), for the Debian release this runs on:
#
#   scripts/package.sh [--arch ARCH [--no-root]] [OUTDIR]
#     -> OUTDIR/iotspot-helper_<version>_<arch>.deb (default dist/), its -dbgsym, .buildinfo
#        and .changes, and the source package (.dsc, .orig.tar.xz, .debian.tar.xz)
#
# --arch ARCH cross-builds for ARCH (arm64) with Debian's multiarch: the architecture added to
# dpkg, crossbuild-essential-ARCH, the build dependencies for ARCH, and qemu-user to run what
# the build runs (the completions and man page are written by the built helper; the unit
# tests). ARCH's -dev packages cannot all stand beside the native ones (installing
# libpoco-dev:arm64 removes libpoco-dev:amd64), so this runs in a throwaway root of this
# machine's release, never in this machine's dpkg (scripts/package/cross-build.sh, which also
# checks the package there: scripts/package/check-cross.sh); --no-root builds here instead,
# for a machine or root that is itself throwaway. Installs what it lacks first, and says what: dpkg-dev and lintian, then the build
# dependencies (apt-get build-dep), as root or through sudo; installs nothing when all is
# there. Builds in build-pkg/ARCH/ from a copy of the files git tracks (and untracked ones
# it does not ignore), with `dpkg-buildpackage -b -us -uc`: DEB_BUILD_OPTIONS=nocheck skips
# the unit tests. Then lintian on the binary and the source package: an error or a warning
# fails the script; docs/packaging.md explains the informational tags.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
usage="usage: scripts/package.sh [--arch ARCH [--no-root]] [OUTDIR]"
say() { echo "package.sh: $*"; }
die() { echo "package.sh: $*" >&2; exit 1; }

host_arch=
out=dist
here=false
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) host_arch=${2:?$usage}; shift 2 ;;
    --no-root) here=true; shift ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) out=$1; shift ;;
  esac
done
build_arch=$(dpkg --print-architecture)
host_arch=${host_arch:-$build_arch}
case "$host_arch" in
  *[!a-z0-9]*) echo "$usage" >&2; exit 2 ;;
esac

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ "$host_arch" != "$build_arch" ] && ! $here; then
  exec $sudo bash scripts/package/cross-build.sh "$host_arch" "$out"
fi
apt_updated=false
apt_install() {
  $apt_updated || { $sudo apt-get update -qq; apt_updated=true; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# -- what the build needs ------------------------------------------------------------------------
tools="dpkg-dev lintian"
cross_flags=""
profiles=""
if [ "$host_arch" != "$build_arch" ]; then
  tools="$tools crossbuild-essential-$host_arch"
  cross_flags="-a$host_arch"
  profiles="cross"
  if ! dpkg --print-foreign-architectures | grep -qx "$host_arch"; then
    say "adding the architecture $host_arch to dpkg (dpkg --add-architecture $host_arch)"
    $sudo dpkg --add-architecture "$host_arch"
  fi
fi
case " ${DEB_BUILD_OPTIONS:-} " in
  *" nocheck "*) profiles="${profiles:+$profiles,}nocheck" ;;
esac
missing=""
for p in $tools; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  say "installing$missing"
  # shellcheck disable=SC2086 # package names are words
  apt_install $missing
fi
# dpkg-checkbuilddeps names what Build-Depends lacks; apt-get build-dep installs exactly that.
# shellcheck disable=SC2086 # cross_flags is empty or one word, -aARCH
unmet=$(dpkg-checkbuilddeps $cross_flags ${profiles:+-P"$profiles"} 2>&1 |
  sed -n 's/.*[Uu]nmet build dependencies: //p') || true
if [ -n "$unmet" ]; then
  say "installing the build dependencies (apt-get build-dep ${cross_flags:+$cross_flags }./): $unmet"
  $apt_updated || { $sudo apt-get update -qq; apt_updated=true; }
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get build-dep -y -qq --no-install-recommends \
    $cross_flags ${profiles:+-P "$profiles"} ./ >/dev/null
  # shellcheck disable=SC2086
  if dpkg-checkbuilddeps $cross_flags ${profiles:+-P"$profiles"}; then :; else
    die "the build dependencies are still not met after apt-get build-dep"
  fi
fi

# -- the source tree, and the build ----------------------------------------------------------------
version=$(dpkg-parsechangelog -S Version)
upstream=${version%-*}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$root/build-pkg/$host_arch
src=$work/iotspot-helper-$upstream
rm -rf "$work"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files deleted in the work tree are left out.
  # shellcheck disable=SC2016 # the inner script's own variables
  git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c \
    'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh |
    tar -cf - --null -T - | tar -xf - -C "$src"
else
  tar -cf - --exclude='./build*' --exclude=./dist --exclude=./dist-trixie --exclude=./.git . |
    tar -xf - -C "$src"
fi

# The source package, for lintian and for builders that start from one (sbuild, PPAs).
(cd "$src" && tar -cf - --exclude=./debian . ) | xz >"$work/iotspot-helper_$upstream.orig.tar.xz"
(cd "$work" && dpkg-source -b "iotspot-helper-$upstream" >/dev/null)

say "dpkg-buildpackage -b -us -uc${cross_flags:+ $cross_flags}${profiles:+ -P$profiles} in $src"
# shellcheck disable=SC2086
(cd "$src" && dpkg-buildpackage -b -us -uc $cross_flags ${profiles:+-P"$profiles"})


for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$work"/*.changes "$work"/*.dsc \
         "$work"/*.orig.tar.xz "$work"/*.debian.tar.xz; do
  [ -e "$f" ] && cp "$f" "$out/"
done
deb=$(ls "$out"/iotspot-helper_*_"$host_arch".deb)
say "built $deb"

# -- lintian: an error or a warning fails; docs/packaging.md explains the informational tags ----------
dsc=$(ls "$out"/iotspot-helper_*.dsc)
lintian --fail-on error,warning --display-info "$deb" "$dsc" ||
  die "lintian found errors or warnings in $deb or $dsc"
say "lintian: no error and no warning in $(basename "$deb") and $(basename "$dsc")"
