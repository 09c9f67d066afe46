#!/bin/bash
# Installs a built package in a fresh root of a Debian release and uses it as a new user would:
#
#   scripts/test-package.sh RELEASE DEB             e.g. bookworm dist/iotspot-helper_0.1.0-1+deb12_amd64.deb
#   scripts/test-package.sh RELEASE --build OUTDIR [--reproducible]
#                                                   first builds it as the README says, in
#                                                   another fresh root, from a fresh clone
#
# --build OUTDIR: in a fresh root of RELEASE with nothing installed but debootstrap's minbase
# (and git, sudo, ca-certificates), clones this repository's HEAD into /src and runs
# `scripts/package.sh dist` there, as root with a clean environment and no stdin: it must
# install what it needs itself. The .deb it built (and its -dbgsym, .buildinfo, .changes) is
# copied to OUTDIR and tested as below; that root is removed first. --reproducible: then, in
# that root, scripts/package/check-reproducible.sh builds it once more, the same way in the
# same place, and the two .debs must be byte-identical. DEB_BUILD_OPTIONS is passed on to
# the builds there (nocheck: without the unit tests).
# In a fresh root (scripts/lib/fresh_root.sh): `apt-get install ./DEB` must pull runtime
# packages only (no compiler, no Node.js); then scripts/package/check-installed.sh checks
# --version, the man pages, bash completion through bash-completion's loader, `git credential
# fill`, zsh's and fish's own lookup of the completions, systemd-analyze verify of the units and `http --auth-type=iotspot`, against the test
# token server; finally `apt-get purge` must leave no file of the package behind, and the
# user's own files in HOME in place. Needs root (debootstrap, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage="usage: scripts/test-package.sh RELEASE DEB | RELEASE --build OUTDIR [--reproducible]"
release=${1:?$usage}
deb=${2:?$usage}
start=$SECONDS
if ! command -v debootstrap >/dev/null; then
  echo "test-package: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# shellcheck source=scripts/lib/fresh_root.sh
. scripts/lib/fresh_root.sh
say() { printf 'test-package: %s\n' "$*"; }
fail() { printf 'test-package: FAIL: %s\n' "$*" >&2; exit 1; }

# Builds the package in a fresh root from a fresh clone of HEAD; sets deb.
build_in_fresh_root() {
  local outdir=$1 reproducible=$2 build_dir commit log
  mkdir -p "$outdir"
  outdir=$(cd "$outdir" && pwd)
  commit=$(git rev-parse HEAD)
  build_dir=$(fresh_root_tmpdir)
  log=$outdir/package-$release.log
  fresh_root_make "$release" "$build_dir"
  git clone -q --no-hardlinks "$root" "$build_dir/src"
  git -C "$build_dir/src" checkout -q --detach "$commit"
  say "scripts/package.sh in a fresh $release root, from a fresh clone of $commit (log: $log)"
  local t0=$SECONDS
  if ! fresh_root_run "$build_dir" env DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
       sh -c 'cd /src && scripts/package.sh dist' </dev/null >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fail "scripts/package.sh failed in a fresh $release root"
  fi
  grep '^package.sh:' "$log" | sed 's/^/  /'
  say "ok: a fresh clone on a fresh $release root built the package in $((SECONDS - t0)) s"
  if [[ $reproducible == --reproducible ]]; then
    t0=$SECONDS
    fresh_root_run "$build_dir" env DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
      sh -c 'cd /src && scripts/package/check-reproducible.sh dist/iotspot-helper_*.deb' </dev/null ||
      fail "a second build of the same commit gave a different package"
    say "ok: reproducible (the second build took $((SECONDS - t0)) s)"
  fi
  cp "$build_dir"/src/dist/*.deb "$build_dir"/src/dist/*.buildinfo "$build_dir"/src/dist/*.changes "$outdir/"
  deb=$(ls "$outdir"/iotspot-helper_*.deb)
  # Called in a list: fresh_root.sh's functions are not written for errexit.
  fresh_root_cleanup "$build_dir" || fail "could not remove the build root $build_dir"
}

if [[ $deb == --build ]]; then
  build_in_fresh_root "${3:?$usage}" "${4:-}"
fi
[[ -f $deb ]] || { echo "test-package.sh: no such file: $deb" >&2; exit 2; }
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%%-*}
in_root() { fresh_root_run "$dir" "$@"; }
apt_install() {
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$dir/apt.log" 2>&1 ||
    { tail -n 30 "$dir/apt.log" >&2; fail "apt-get install $*"; }
}

dir=$(fresh_root_tmpdir)
fresh_root_make "$release" "$dir"
in_root apt-get update -qq

# -- install: runtime packages only ----------------------------------------------------------------
# shellcheck disable=SC2016 # dpkg-query's own ${FIELD} syntax
in_root dpkg-query -W -f '${Package}\n' | sort >"$dir/before"
cp "$deb" "$dir/tmp/"
apt_install "./tmp/$(basename "$deb")"
# shellcheck disable=SC2016
in_root dpkg-query -W -f '${Package}\n' | sort >"$dir/after"
pulled=$(comm -13 "$dir/before" "$dir/after")
say "apt-get install pulled $(wc -w <<<"$pulled") packages: $(tr '\n' ' ' <<<"$pulled")"
toolchain=$(grep -E '^(gcc|g\+\+|cpp|clang|llvm|cmake|ninja-build|make|nodejs|npm|libnode)([-0-9.]*)$|-dev$' <<<"$pulled" || true)
[[ -z $toolchain ]] || fail "installing the package pulled build or test tools: $toolchain"
for tool in cc gcc g++ node npm cmake; do
  if in_root sh -c "command -v $tool" >/dev/null; then fail "$tool is installed in the root"; fi
done
say "ok: no compiler, no Node.js"

# -- use it --------------------------------------------------------------------------------------------
apt_install --no-install-recommends man-db systemd httpie openssl bash-completion zsh fish
mkdir -p "$dir/tmp/iotspot-test"
cp -r tests/e2e/support "$dir/tmp/iotspot-test/support"
cp scripts/package/check-installed.sh "$dir/tmp/iotspot-test/"
in_root dpkg -L iotspot-helper >"$dir/files"
in_root bash /tmp/iotspot-test/check-installed.sh "$upstream" /tmp/iotspot-test/support </dev/null

# -- purge: nothing of the package left, the user's files kept ----------------------------------------
home_files=(/root/.config/iotspot-helper/config /root/.local/share/iotspot-helper/key
            /root/.local/share/iotspot-helper/secrets.db /root/.cache/iotspot-helper/tokens.db)
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq iotspot-helper >"$dir/apt.log" 2>&1 ||
  { tail -n 30 "$dir/apt.log" >&2; fail "apt-get purge"; }
left=()
while IFS= read -r path; do
  [[ $path != /. ]] || continue
  [[ -e $dir$path || -L $dir$path ]] || continue
  # A folder that another package also owns (/usr/bin, /usr/share/man/man1, ...) stays.
  [[ -d $dir$path && ! -L $dir$path ]] && in_root dpkg-query -S "$path" >/dev/null 2>&1 && continue
  left+=("$path")
done <"$dir/files"
((${#left[@]} == 0)) || fail "apt-get purge left: ${left[*]}"
# Anything else named after it (byte-code, say), but not man-db's cache of formatted pages
# (/var/cache/man, man-db's own, which its daily job prunes).
stray=$(in_root find / -xdev -name '*iotspot*' -not -path '/root/*' -not -path '/tmp/*' \
  -not -path '/var/cache/man/*' -print)
[[ -z $stray ]] || fail "after apt-get purge these are left: $stray"
for file in "${home_files[@]}"; do
  [[ -f $dir$file ]] || fail "apt-get purge removed the user's $file"
done
say "ok: apt-get purge left none of the package's $(wc -l <"$dir/files") paths; the user's files in HOME stay"
say "passed on $release in $((SECONDS - start)) s ($deb, root $root)"
