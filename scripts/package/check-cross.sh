#!/bin/bash
# Checks a cross-built package on the build machine and uses it under qemu-user:
#
#   scripts/package/check-cross.sh DEB        e.g. dist-arm64/iotspot-helper_0.1.0-1+deb12_arm64.deb
#
# The contents: the executable and both modules are ELF files for the package's architecture
# (AArch64 for arm64), and Depends was computed for it: every library they need is found in a
# package of that architecture installed here, and that package is in Depends. Then a smoke
# test with the package's own executable and modules under qemu-user (qemu-ARCH-static),
# against the test token server over TLS on loopback: --version, configure, token (the token
# the API accepts), get (git's credential protocol) and serve. Needs what
# `scripts/package.sh --arch ARCH` installed (the architecture's libraries, qemu-user-static)
# and python3, openssl and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
deb=${1:?usage: scripts/package/check-cross.sh DEB}
[[ -f $deb ]] || { echo "check-cross: no such file: $deb" >&2; exit 2; }
fail() { echo "check-cross: FAIL: $*" >&2; exit 1; }
ok() { echo "check-cross: ok: $*"; }

arch=$(dpkg-deb -f "$deb" Architecture)
version=$(dpkg-deb -f "$deb" Version)
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
cpu=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_CPU 2>/dev/null)
case "$arch" in
  amd64) machine="Advanced Micro Devices X86-64" ;;
  arm64) machine=AArch64 ;;
  armhf) machine=ARM ;;
  riscv64) machine=RISC-V ;;
  *) fail "no ELF machine known for $arch" ;;
esac
# The machine's own architecture runs without qemu (a check of this script itself).
if [[ $arch == "$(dpkg --print-architecture)" ]]; then
  qemu="env"
else
  qemu=$(command -v "qemu-$cpu-static" || command -v "qemu-$cpu" || true)
  [[ -n $qemu ]] || fail "qemu-$cpu-static is missing: apt-get install qemu-user-static"
fi

work=$(mktemp -d)
server=
cleanup() {
  [[ -z $server ]] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; } || true
  [[ -z ${serve:-} ]] || { kill "$serve" 2>/dev/null; wait "$serve" 2>/dev/null; } || true
  rm -rf "$work"
}
trap cleanup EXIT
pkg=$work/pkg
dpkg-deb -x "$deb" "$pkg"

# -- ELF files of the right machine ----------------------------------------------------------------
elves=("$pkg/usr/bin/iotspot-helper" "$pkg/usr/lib/$multiarch/iotspot-helper/iotspot-helper-net.so"
       "$pkg/usr/lib/$multiarch/iotspot-helper/iotspot-helper-redis.so")
for elf in "${elves[@]}"; do
  [[ -f $elf ]] || fail "the package lacks ${elf#"$pkg"}"
  got=$(LC_ALL=C readelf -h "$elf" | sed -n 's/^ *Machine: *//p')
  [[ $got == "$machine" ]] || fail "${elf#"$pkg"} is an ELF file for $got, not $machine"
done
ok "$arch: the executable and both modules are ELF $machine"

# -- Depends computed for the architecture -----------------------------------------------------------
depends=$(dpkg-deb -f "$deb" Depends)
depends_names=$(tr '|,' '\n' <<<"$depends" | sed -E 's/^ *([^ (]+).*/\1/' | sort -u)
for elf in "${elves[@]}"; do
  for soname in $(LC_ALL=C readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    # dpkg knows a library by the path its package installed: /usr/lib or /lib.
    owner=
    for dir in "/usr/lib/$multiarch" "/lib/$multiarch"; do
      [[ -e $dir/$soname ]] || continue
      owner=$(dpkg -S "$dir/$soname" 2>/dev/null | sed -n '1s/: .*//p') || true
      [[ -z $owner ]] || break
    done
    [[ -n $owner ]] || fail "${elf#"$pkg"} needs $soname, which no installed $arch package has"
    [[ $owner == *":$arch" ]] || fail "$soname is in $owner, not in a package for $arch"
    grep -qx "${owner%:*}" <<<"$depends_names" ||
      fail "${elf#"$pkg"} needs $soname from ${owner%:*}, which Depends lacks: $depends"
  done
done
ok "$arch: Depends names the $arch packages of every library needed: $depends"

# -- a smoke test under qemu-user ----------------------------------------------------------------------
helper() { HOME=$work/home "$qemu" "$pkg/usr/bin/iotspot-helper" "$@"; }
mkdir -m 0700 "$work/home"
[[ $(helper --version) == "iotspot-helper ${version%%-*}" ]] ||
  fail "--version printed: $(helper --version)"
ok "under $(basename "$qemu"): $(helper --version)"

python3 - "$work/pki" "$root/tests/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from support.pki import make_pki
make_pki(sys.argv[1])
PY
ca=$work/pki/ca.pem
client_id=crosstest$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
(umask 077; printf '{"%s": "%s"}' "$client_id" "$secret" >"$work/clients.json")
python3 "$root/tests/e2e/support/token_server.py" --cert "$work/pki/server.pem" \
  --key "$work/pki/server.key" --clients "$work/clients.json" --port-file "$work/port" >/dev/null &
server=$!
for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
[[ -s $work/port ]] || fail "the test token server did not start"
port=$(cat "$work/port")
api=https://127.0.0.1:$port

printf '%s\n' "$secret" | helper configure --client-id "$client_id" --token-url "$api/oauth2/token" \
  --ca-file "$ca" --api-url "$api" --client-secret-stdin >/dev/null
ok "configure"

# The API accepts the token: curl reads the header from a file, never from its arguments.
api_accepts() {
  (umask 077; printf 'Authorization: Bearer %s\n' "$1" >"$work/header")
  curl -sf --max-time 20 --cacert "$ca" -H @"$work/header" "$api/v1/ping" >/dev/null
}
token=$(helper token)
api_accepts "$token" || fail "the API refused the token that token printed"
ok "token: fetched from the test token server through the $arch network module; the API accepts it"

answer=$(printf 'protocol=https\nhost=127.0.0.1:%s\n\n' "$port" | helper get)
grep -qx "password=$token" <<<"$answer" || fail "get did not answer with the cached token"
ok "get: answered git's credential request with the token"

key=$(helper serve --print-key)
serve_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# exec: $! is serve itself (under qemu), which the SIGTERM below must reach.
(HOME=$work/home exec "$qemu" "$pkg/usr/bin/iotspot-helper" serve --port "$serve_port" \
  </dev/null >"$work/serve.log" 2>&1) &
serve=$!
(umask 077; printf 'X-Iotspot-Key: %s\n' "$key" >"$work/key-header")
body=
for _ in $(seq 400); do
  body=$(curl -sf --max-time 20 -H @"$work/key-header" \
    "http://127.0.0.1:$serve_port/v1/token?profile=default") && break
  kill -0 "$serve" 2>/dev/null || { cat "$work/serve.log" >&2; fail "serve exited"; }
  sleep 0.05
done
served=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' <<<"$body") ||
  fail "serve did not answer with a token"
api_accepts "$served" || fail "the API refused the token serve handed out"
kill -TERM "$serve"
wait "$serve" || fail "serve did not end cleanly on SIGTERM: $(cat "$work/serve.log")"
serve=
ok "serve: handed out a token the API accepts, and ended on SIGTERM"
echo "check-cross: passed for $deb"
