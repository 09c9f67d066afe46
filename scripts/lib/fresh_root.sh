# shellcheck shell=bash
# Fresh Debian roots for testing as a new user would: sourced by bash scripts
# (scripts/test-fresh.sh, the package tests). Needs root, debootstrap, mount and chroot.
#
#   . scripts/lib/fresh_root.sh
#   dir=$(fresh_root_tmpdir)                 # a new empty folder under ${TMPDIR:-/var/tmp}
#   fresh_root_make trixie "$dir"            # debootstrap (or the cache), CA, apt sources, mounts
#   fresh_root_run "$dir" sh -c 'cd /src && scripts/demo.sh' </dev/null
#   fresh_root_cleanup "$dir"                # also done on EXIT, INT and TERM
#
# fresh_root_make RELEASE DIR
#   Makes a root of RELEASE (bookworm, trixie, ...) in DIR, which must be empty or absent:
#   `debootstrap --variant=minbase --include=ca-certificates,git,sudo`, from the archive this
#   machine's apt uses (read from `apt-get indextargets`; FRESH_ROOT_MIRROR and
#   FRESH_ROOT_SECURITY_MIRROR override it). Copies only the CA certificates of
#   /usr/local/share/ca-certificates (the TLS proxy's) into the root and runs
#   update-ca-certificates there; npm inside trusts the system bundle (/root/.npmrc cafile).
#   Writes the root's own apt sources (RELEASE, RELEASE-updates, RELEASE-security); apt inside
#   reads no other file of the host (debootstrap itself copies /etc/resolv.conf and
#   /etc/hostname, for name resolution). Mounts proc, dev, dev/pts and a tmpfs on dev/shm.
#   Installs traps on EXIT, INT and TERM that clean up every root made; a caller that sets
#   its own trap later must call fresh_root_cleanup_all from it.
#   Cache: the debootstrapped base root (before the CA and mounts) is kept as
#   $FRESH_ROOT_CACHE/RELEASE.tar.zst (default /var/cache/iotspot-helper/roots), reused
#   while younger than FRESH_ROOT_CACHE_DAYS (default 7) days. FRESH_ROOT_CACHE= (empty)
#   neither reads nor writes a cache.
# fresh_root_run DIR CMD [ARG...]
#   Runs CMD inside the root as root, with a clean environment (env -i with PATH, HOME=/root,
#   LANG=C.UTF-8, TERM=dumb) and the caller's stdin, stdout and stderr. Returns its status.
# fresh_root_cleanup DIR
#   Ends the processes still running inside the root (TERM, then KILL after 5 s), unmounts everything below DIR (lazily if a plain unmount fails) and removes DIR, never
#   crossing into a file system still mounted there. Safe to call twice.
# fresh_root_cleanup_all
#   fresh_root_cleanup for every root fresh_root_make made in this shell.
# fresh_root_tmpdir
#   Prints the path of a new empty folder for a root.

FRESH_ROOT_DIRS=()

fresh_root_log() { printf 'fresh_root: %s\n' "$*" >&2; }

fresh_root_tmpdir() {
  mktemp -d "${TMPDIR:-/var/tmp}/iotspot-root.XXXXXX"
}

# The archive URL of apt's index target whose release matches $1 (a suite or a suffix
# like -security): the part of the URI before /dists/.
fresh_root_archive() {
  local want=$1
  # shellcheck disable=SC2016 # apt's own $(FIELD) syntax
  apt-get indextargets --format '$(RELEASE) $(URI)' 2>/dev/null |
    awk -v want="$want" '
      want ~ /^-/ { if (substr($1, length($1) - length(want) + 1) == want) { print $2; exit } ; next }
      $1 == want { print $2; exit }' |
    sed 's#/dists/.*##'
}

# The host's main and security archive URLs, in FRESH_ROOT_MIRROR and
# FRESH_ROOT_SECURITY_MIRROR unless already set.
fresh_root_find_archives() {
  local host_release
  # shellcheck disable=SC1091
  host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ -z "${FRESH_ROOT_MIRROR:-}" ]; then
    FRESH_ROOT_MIRROR=$(fresh_root_archive "$host_release")
  fi
  if [ -z "${FRESH_ROOT_SECURITY_MIRROR:-}" ]; then
    FRESH_ROOT_SECURITY_MIRROR=$(fresh_root_archive -security)
  fi
  if [ -z "$FRESH_ROOT_MIRROR" ]; then
    fresh_root_log "cannot read the Debian archive from apt's configuration (apt-get indextargets); set FRESH_ROOT_MIRROR"
    return 1
  fi
}

fresh_root_cache_file() {
  printf '%s/%s.tar.zst\n' "$FRESH_ROOT_CACHE" "$1"
}

# Extracts a cached base root of $1 into $2; fails if there is none young enough.
fresh_root_from_cache() {
  local release=$1 dir=$2 file
  [ -n "$FRESH_ROOT_CACHE" ] || return 1
  file=$(fresh_root_cache_file "$release")
  [ -f "$file" ] || return 1
  [ -n "$(find "$file" -mtime -"${FRESH_ROOT_CACHE_DAYS:-7}")" ] || return 1
  fresh_root_log "base root of $release from the cache $file"
  tar --zstd -xpf "$file" -C "$dir"
}

# Saves the base root in $2 as the cache of release $1 (atomically; failure is harmless).
fresh_root_save_cache() {
  local release=$1 dir=$2 file
  [ -n "$FRESH_ROOT_CACHE" ] && command -v zstd >/dev/null || return 0
  file=$(fresh_root_cache_file "$release")
  if mkdir -p "$FRESH_ROOT_CACHE" && chmod 0700 "$FRESH_ROOT_CACHE" &&
     tar --zstd -cpf "$file.tmp.$$" --one-file-system -C "$dir" . &&
     mv -f "$file.tmp.$$" "$file"; then
    fresh_root_log "cached the base root as $file"
  else
    rm -f "$file.tmp.$$"
    fresh_root_log "could not cache the base root in $FRESH_ROOT_CACHE (going on without)"
  fi
}

fresh_root_debootstrap() {
  local release=$1 dir=$2 log=$2.debootstrap.log
  fresh_root_log "debootstrap $release from $FRESH_ROOT_MIRROR"
  if ! debootstrap --variant=minbase --include=ca-certificates,git,sudo \
        "$release" "$dir" "$FRESH_ROOT_MIRROR" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    [ -f "$dir/debootstrap/debootstrap.log" ] && tail -n 20 "$dir/debootstrap/debootstrap.log" >&2
    rm -f "$log"
    fresh_root_log "debootstrap of $release failed"
    return 1
  fi
  rm -f "$log"
}

# The root's own apt sources, in place of debootstrap's sources.list.
fresh_root_write_sources() {
  local release=$1 dir=$2 keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  rm -f "$dir/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n' \
      "$FRESH_ROOT_MIRROR" "$release" "$release" "$keyring"
    if [ -n "$FRESH_ROOT_SECURITY_MIRROR" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
        "$FRESH_ROOT_SECURITY_MIRROR" "$release" "$keyring"
    fi
  } >"$dir/etc/apt/sources.list.d/debian.sources"
}

# Only the CA certificates of /usr/local/share/ca-certificates, trusted by the system and npm.
fresh_root_install_ca() {
  local dir=$1 crt
  mkdir -p "$dir/usr/local/share/ca-certificates"
  for crt in /usr/local/share/ca-certificates/*.crt; do
    [ -f "$crt" ] && install -m 0644 "$crt" "$dir/usr/local/share/ca-certificates/"
  done
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >"$dir/root/.npmrc"
  fresh_root_run "$dir" update-ca-certificates >/dev/null
}

fresh_root_mount() {
  local dir=$1
  mount -t proc proc "$dir/proc"
  mount --bind /dev "$dir/dev"
  mount --bind /dev/pts "$dir/dev/pts"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$dir/dev/shm"
}

fresh_root_make() {
  local release=${1:?fresh_root_make RELEASE DIR} dir=${2:?fresh_root_make RELEASE DIR}
  FRESH_ROOT_CACHE=${FRESH_ROOT_CACHE-/var/cache/iotspot-helper/roots}
  if [ "$(id -u)" -ne 0 ]; then fresh_root_log "making a root needs root"; return 1; fi
  command -v debootstrap >/dev/null || {
    fresh_root_log "debootstrap is missing: apt-get install debootstrap"; return 1; }
  mkdir -p "$dir"
  if [ -n "$(ls -A "$dir")" ]; then fresh_root_log "$dir is not empty"; return 1; fi
  chmod 0755 "$dir"
  FRESH_ROOT_DIRS+=("$dir")
  trap fresh_root_cleanup_all EXIT
  trap 'fresh_root_cleanup_all; trap - INT; kill -INT $$' INT
  trap 'fresh_root_cleanup_all; trap - TERM; kill -TERM $$' TERM
  fresh_root_find_archives || return 1
  if ! fresh_root_from_cache "$release" "$dir"; then
    find "$dir" -xdev -mindepth 1 -delete
    fresh_root_debootstrap "$release" "$dir" || return 1
    fresh_root_save_cache "$release" "$dir"
  fi
  fresh_root_write_sources "$release" "$dir"
  fresh_root_mount "$dir"
  fresh_root_install_ca "$dir"
}

fresh_root_run() {
  local dir=${1:?fresh_root_run DIR CMD...}
  shift
  chroot "$dir" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# Mount points at or below $1, deepest first.
fresh_root_mounts_below() {
  local dir
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# Process ids whose root directory is $1: what fresh_root_run started there.
fresh_root_pids() {
  local dir p
  dir=$(realpath -m "$1")
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$dir" ] && echo "${p#/proc/}"
  done
}

# Ends the processes still running inside root $1: TERM, then KILL after 5 s.
fresh_root_stop_processes() {
  local dir=$1 pids _
  pids=$(fresh_root_pids "$dir")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do
    [ -n "$(fresh_root_pids "$dir")" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2046
  kill -KILL $(fresh_root_pids "$dir") 2>/dev/null
  sleep 0.2
}

fresh_root_cleanup() {
  local dir=${1:?fresh_root_cleanup DIR} m
  [ -d "$dir" ] || return 0
  fresh_root_stop_processes "$dir"
  for m in $(fresh_root_mounts_below "$dir"); do
    umount "$m" 2>/dev/null || umount -l "$m" || fresh_root_log "could not unmount $m"
  done
  if [ -n "$(fresh_root_mounts_below "$dir")" ]; then
    fresh_root_log "$dir still has mounts; left in place"
    return 1
  fi
  rm -rf --one-file-system "$dir"
}

fresh_root_cleanup_all() {
  local dir
  for dir in "${FRESH_ROOT_DIRS[@]}"; do
    fresh_root_cleanup "$dir" || true
  done
  FRESH_ROOT_DIRS=()
}
