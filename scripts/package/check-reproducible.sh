#!/bin/sh
# Builds the package once more and checks that the new .deb is byte-identical to DEB:
#
#   scripts/package/check-reproducible.sh DEB [--arch ARCH]
#
# DEB is a package scripts/package.sh built from this commit; the second build runs the same
# way (scripts/package.sh, into a fresh folder, same DEB_BUILD_OPTIONS; never through ccache,
# whose cached objects would hide a compiler that is not deterministic). SOURCE_DATE_EPOCH
# comes from debian/changelog in both (dpkg-buildpackage sets it). On a difference, lists the
# files inside the two packages that differ.
set -eu
cd "$(dirname "$0")/../.."
deb=${1:?usage: scripts/package/check-reproducible.sh DEB [--arch ARCH]}
shift
[ -f "$deb" ] || { echo "check-reproducible: no such file: $deb" >&2; exit 2; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
again=$(mktemp -d)
trap 'rm -rf "$again"' EXIT
env -u CMAKE_CXX_COMPILER_LAUNCHER -u CMAKE_C_COMPILER_LAUNCHER scripts/package.sh "$@" "$again" \
  >"$again/package.log" 2>&1 || { tail -n 40 "$again/package.log" >&2; exit 1; }
second=$again/$(basename "$deb")
[ -f "$second" ] || { echo "check-reproducible: the second build made no $(basename "$deb")" >&2; exit 1; }
if cmp -s "$deb" "$second"; then
  echo "check-reproducible: ok: a second build gave a byte-identical $(basename "$deb") ($(sha256sum <"$deb" | cut -c1-16)...)"
  exit 0
fi
echo "check-reproducible: FAIL: a second build of the same commit gave a different $(basename "$deb")" >&2
for d in one two; do mkdir -p "$again/$d"; done
dpkg-deb -R "$deb" "$again/one"
dpkg-deb -R "$second" "$again/two"
diff -rq "$again/one" "$again/two" >&2 || true
exit 1
