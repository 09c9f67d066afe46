#!/bin/sh
# Builds the Debian package of iotspot-helper for the Debian release this runs on:
#
#   scripts/package.sh [OUTDIR]     -> OUTDIR/iotspot-helper_<version>_<arch>.deb (default dist/)
#
# Configures a release build for /usr in build-pkg/ (no tests), installs it into a staging
# tree with `cmake --install --strip`, adds what Debian policy asks of a package (gzipped man
# pages, copyright, changelog.Debian.gz), computes Depends with dpkg-shlibdeps from the
# libraries the executable and the network module link, and builds the .deb with dpkg-deb.
# Then runs lintian on it: an error fails the script (docs/packaging.md explains the rest).
# Needs the build dependencies of scripts/bootstrap.sh plus dpkg-dev and lintian.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

name=iotspot-helper
upstream=$(sed -n 's/^project(iotspot-helper VERSION \([0-9.]*\) .*/\1/p' CMakeLists.txt)
date=$(sed -n 's/^set(IOTSPOT_RELEASE_DATE "\([0-9-]*\)")/\1/p' CMakeLists.txt)
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# shellcheck disable=SC1091
release=$(. /etc/os-release && echo "${VERSION_ID%%.*}")
# One upstream version, built for each release: 0.1.0-1+deb12 (bookworm), 0.1.0-1+deb13 (trixie).
version="$upstream-1+deb$release"
arch=$(dpkg --print-architecture)
# The maintainers as the repository's history names them.
maintainer="iotspot-helper maintainers <maintainers@users.noreply.r-seed-c1f27092.example>"
if [ -z "$upstream" ] || [ -z "$date" ] || [ -z "$codename" ]; then
  echo "package.sh: cannot read the version, date or release" >&2
  exit 1
fi

build=$root/build-pkg
stage=$build/stage
rm -rf "$stage" "$build/CMakeCache.txt"
# Debian's build flags (stack protector, _FORTIFY_SOURCE, relro), as a package build uses.
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DIOTSPOT_TESTS=OFF -DIOTSPOT_WERROR=ON -DIOTSPOT_PYTHON_DIR=lib/python3/dist-packages >/dev/null
cmake --build "$build" -- -j"$(nproc)"
DESTDIR=$stage cmake --install "$build" --strip >/dev/null

# Debian policy: man pages gzipped (-n: no name or time stamp, for reproducible builds).
find "$stage/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +

doc=$stage/usr/share/doc/$name
mkdir -p "$doc"
cp README.md "$doc/"
cp docs/*.md "$doc/"
cp plugins/systemd/README.md "$doc/systemd.md"
cp plugins/cron/README.md "$doc/cron.md"
gzip -9n "$doc"/*.md
sed "s/@YEAR@/${date%%-*}/" scripts/package/copyright >"$doc/copyright"
{
  printf '%s (%s) %s; urgency=medium\n\n' "$name" "$version" "$codename"
  printf '  * Built by scripts/package.sh from iotspot-helper %s for Debian %s.\n\n' \
    "$upstream" "$release"
  printf ' -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -u -R -d "$date 12:00:00")"
} | gzip -9n >"$doc/changelog.Debian.gz"

# Modes as Debian wants them whatever the umask of the build: 0755 folders and programs,
# 0644 other files.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -perm /111 -exec chmod 0755 {} +
find "$stage" -type f ! -perm /111 -exec chmod 0644 {} +

# Depends: from the shared libraries the executable and the modules link (the executable
# carries SQLite, libsodium and libstdc++ itself; the modules link Poco and OpenSSL), plus
# what the scripts run.
mkdir -p "$stage/DEBIAN" "$build/shlibdeps/debian"
net_module=$(find "$stage/usr/lib" -name iotspot-helper-net.so)
redis_module=$(find "$stage/usr/lib" -name iotspot-helper-redis.so)
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" \
  >"$build/shlibdeps/debian/control"
shlibs=$(cd "$build/shlibdeps" && dpkg-shlibdeps -O -e"$stage/usr/bin/iotspot-helper" \
  -e"$net_module" -e"$redis_module" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package.sh: dpkg-shlibdeps found no libraries" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $shlibs, python3
Recommends: bash-completion, curl, git
Suggests: httpie, zsh, fish
Section: utils
Priority: optional
Homepage: https://iotspot.co
Description: OAuth2 tokens for the iotspot API, cached encrypted
 iotspot-helper gets the bearer tokens the iotspot Open API accepts (Amazon
 Cognito's client-credentials grant), caches them encrypted in a per-user
 SQLite file until shortly before they expire, and hands them to scripts,
 shells and tools: token, header, env and exec commands, a git credential
 helper, iotspot-curl, shell hooks and completions, plugins for HTTPie,
 Postman, Bruno and Insomnia, and systemd user units for unattended refresh.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
  xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
install -m 0755 scripts/package/postinst scripts/package/prerm "$stage/DEBIAN/"

deb="$out/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "package.sh: built $deb"

# lintian: errors fail the build; warnings are explained in docs/packaging.md.
if command -v lintian >/dev/null; then
  lintian --fail-on error "$deb" || {
    echo "package.sh: lintian found errors in $deb" >&2; exit 1; }
else
  echo "package.sh: lintian is not installed; the package was not checked" >&2
fi
