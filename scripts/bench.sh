#!/bin/bash
# Benchmarks the cache-hit path against git's own credential helper, side by side in one run,
# and against a fresh token fetch with curl, all against the bundled local token server; then
# a cache miss (logout, then token) against that curl fetch, side by side in a second run.
# Prints wall-time ratios (hyperfine, medians), CPU-time ratios (user + system, means) and
# peak resident memory (/usr/bin/time).
# Then the shared tier (docs/fleet.md): a local miss answered by a local Redis against one
# fetched from the token server, side by side, and the token requests of K hosts x N callers
# with and without it. Then a consumer reading the token file that `sink` writes, against
# running `iotspot-helper token` and `git credential-store get`. Last, `prefetch --all` of 20
# profiles with one worker against the default eight.
# Figures go to docs/performance.md; nothing here is a test.
#   scripts/bench.sh [--runs N] [--miss-runs M]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200
miss_runs=60
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --miss-runs) miss_runs=$2; shift 2 ;;
    *) echo "usage: scripts/bench.sh [--runs N] [--miss-runs M]" >&2; exit 2 ;;
  esac
done

# Measured as on a stock Debian machine: no SSL_CERT_FILE, SSL_CERT_DIR or CURL_CA_BUNDLE
# (some CI and container images point them at the whole system bundle, which OpenSSL then
# parses in full; the helper honours SSL_CERT_FILE and SSL_CERT_DIR like OpenSSL does).
unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE
scripts/bootstrap.sh --test
scripts/build.sh >/dev/null
helper=$PWD/build/iotspot-helper
work=$(mktemp -d /tmp/iotspot-bench.XXXXXX)
# shellcheck source=scripts/lib/local_server.sh
. scripts/lib/local_server.sh
start_local_server "$work" "$helper" >/dev/null
"$helper" token >/dev/null # fill the cache

# A Redis (or Valkey) of the run's own for profile "fleet", with an ACL user and password.
redis_bin=$(command -v redis-server || command -v valkey-server)
redis_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=\n')
(umask 077; printf '%s\n' "bind 127.0.0.1" "port $redis_port" 'save ""' "appendonly no" \
  "dir $work" "user default off" \
  "user helper on >$redis_password ~iotspot-helper:* -@all +get +set +eval +del +ping" \
  >"$work/redis.conf")
"$redis_bin" "$work/redis.conf" >/dev/null 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" "$LOCAL_SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "'"$work"'"' EXIT
for _ in $(seq 200); do (: <"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break; sleep 0.05; done
printf '%s\n%s\n' "$LOCAL_CLIENT_SECRET" "$redis_password" | "$helper" --profile fleet configure \
  --client-id "$LOCAL_CLIENT_ID" --token-url "$LOCAL_API_URL/oauth2/token" --ca-file "$LOCAL_CA" \
  --api-url "$LOCAL_API_URL" --shared-cache "redis://helper@127.0.0.1:$redis_port" \
  --client-secret-stdin --redis-password-stdin >/dev/null
"$helper" --profile fleet token >/dev/null # fills Redis and the local cache

# The baseline: git credential-store answering from its plain-text file.
printf 'https://user:%s@example.invalid\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  >"$work/git-credentials"
printf 'protocol=https\nhost=example.invalid\n\n' >"$work/request"
# A fresh fetch with curl, credentials in a 0600 config file rather than on its command line.
(umask 077; printf 'user = "%s:%s"\n' "$LOCAL_CLIENT_ID" "$LOCAL_CLIENT_SECRET" >"$work/curl.conf")
fetch="curl -sS --cacert $LOCAL_CA -K $work/curl.conf -d grant_type=client_credentials -d scope=iotspot/openapi $LOCAL_API_URL/oauth2/token"

git_get="git credential-store --file $work/git-credentials get < $work/request"
hit="$helper token"
printf 'protocol=https\nhost=%s\n\n' "${LOCAL_API_URL#https://}" >"$work/helper-request"
helper_get="$helper get < $work/helper-request"

hyperfine --warmup 20 --runs "$runs" --export-json "$work/hyperfine.json" \
  -n "git credential-store get" "$git_get" \
  -n "iotspot-helper token (cache hit)" "$hit" \
  -n "iotspot-helper get (cache hit, as git runs it)" "$helper_get" \
  -n "curl fetch from the token server" "$fetch" \
  -n "iotspot-helper token (cache hit, profile with a shared cache)" "$helper --profile fleet token" >&2

# Local misses (the cache directory removed before each run): Redis answers, or the server.
miss_runs=$(( runs < 100 ? runs : 100 ))
hyperfine --warmup 3 --runs "$miss_runs" --export-json "$work/miss.json" \
  --prepare "rm -rf $work/miss-redis" --prepare "rm -rf $work/miss-direct" \
  -n "local miss answered by Redis" "XDG_CACHE_HOME=$work/miss-redis $helper --profile fleet token" \
  -n "local miss fetched from the token server" "XDG_CACHE_HOME=$work/miss-direct $helper token" >&2

peak() { /usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -n 1; }

/usr/bin/python3 - "$work/hyperfine.json" "$work/miss.json" "$(peak "$git_get")" "$(peak "$hit")" \
  "$(peak "$helper_get")" "$(peak "$fetch")" "$(peak "$helper --profile fleet token")" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
git, hit, get, curl, shared_hit = (r["median"] * 1000 for r in results)
rss = [int(x) / 1024 for x in sys.argv[3:8]]
print("| command | median wall time | ratio to git credential-store get | peak RSS |")
print("| --- | --- | --- | --- |")
for result, ms, mem in zip(results, (git, hit, get, curl, shared_hit), rss):
    print("| %s | %.2f ms | %.2fx | %.1f MiB |" % (result["command"], ms, ms / git, mem))
print()
misses = json.load(open(sys.argv[2]))["results"]
redis, direct = (r["median"] * 1000 for r in misses)
print("| local miss | median wall time | ratio to the direct fetch |")
print("| --- | --- | --- |")
for result, ms in zip(misses, (redis, direct)):
    print("| %s | %.2f ms | %.2fx |" % (result["command"], ms, ms / direct))
print()
print("cache hit with a shared cache configured / without: %.2fx" % (shared_hit / hit))
print()
print("cache hit / git credential-store get: %.2fx (goal: at most 1.3x)" % (hit / git))
print("cache hit / fresh curl fetch:         %.3fx (%.0f times faster)" % (hit / curl, curl / hit))
print("cache hit peak RSS: %.1f MiB (goal: at most 6 MiB)" % rss[1])
PY

# A cache miss: --prepare empties the cache before each run of `token` (and runs a no-op
# before each curl run, so both pay for a preparation step outside the measurement). Both
# fetch a token from the same local server over TLS, trusting the same CA.
hyperfine --warmup 5 --runs "$miss_runs" --export-json "$work/miss.json" \
  --prepare "$helper logout >/dev/null" -n "iotspot-helper token (cache miss)" "$hit" \
  --prepare "true" -n "curl fetch from the token server" "$fetch" >&2

/usr/bin/python3 - "$work/miss.json" <<'PY'
import json, sys
miss, curl = json.load(open(sys.argv[1]))["results"]
cpu = lambda r: (r["user"] + r["system"]) * 1000
print()
print("| command | median wall time | mean CPU time (user + system) |")
print("| --- | --- | --- |")
for r in (miss, curl):
    print("| %s | %.1f ms | %.1f ms |" % (r["command"], r["median"] * 1000, cpu(r)))
print()
print("cache miss / curl fetch, wall: %.2fx (goal: at most 1.15x)" % (miss["median"] / curl["median"]))
print("cache miss / curl fetch, CPU:  %.2fx" % (cpu(miss) / cpu(curl)))
PY

# Instructions of a cache hit, with and without a shared cache configured: independent of
# the machine's load, which wall times on a shared machine are not.
if command -v valgrind >/dev/null; then
  instructions() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : //p'; }
  echo
  echo "cache hit, instructions (callgrind): $(instructions "$helper" token) without a shared cache," \
    "$(instructions "$helper" --profile fleet token) with one"
fi
# A consumer reading the file that sink keeps fresh, against asking the helper or git.
"$helper" sink --once "$work/token"
echo
/usr/bin/python3 scripts/lib/token_file_bench.py "$helper" "$work/token" "$work/git-credentials" \
  "$work/request" "$runs"
echo
/usr/bin/python3 scripts/lib/fleet_requests.py "$helper" 1 20 5 20 10 10
echo
/usr/bin/python3 scripts/lib/prefetch_bench.py "$helper" 20 0.2 7
