#!/bin/bash
# Benchmarks the cache-hit path against git's own credential helper, side by side in one run,
# and against a fresh token fetch with curl, all against the bundled local token server.
# Prints wall-time ratios (hyperfine, medians) and peak resident memory (/usr/bin/time).
# Figures go to docs/performance.md; nothing here is a test.
#   scripts/bench.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200
[ "${1:-}" = --runs ] && runs=$2

scripts/bootstrap.sh
scripts/build.sh >/dev/null
helper=$PWD/build/iotspot-helper
work=$(mktemp -d /tmp/iotspot-bench.XXXXXX)
# shellcheck source=scripts/lib/local_server.sh
. scripts/lib/local_server.sh
start_local_server "$work" "$helper" >/dev/null
"$helper" token >/dev/null # fill the cache

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
  -n "curl fetch from the token server" "$fetch" >&2

peak() { /usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -n 1; }

/usr/bin/python3 - "$work/hyperfine.json" "$(peak "$git_get")" "$(peak "$hit")" \
  "$(peak "$helper_get")" "$(peak "$fetch")" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
git, hit, get, curl = (r["median"] * 1000 for r in results)
rss = [int(x) / 1024 for x in sys.argv[2:6]]
print("| command | median wall time | ratio to git credential-store get | peak RSS |")
print("| --- | --- | --- | --- |")
for result, ms, mem in zip(results, (git, hit, get, curl), rss):
    print("| %s | %.2f ms | %.2fx | %.1f MiB |" % (result["command"], ms, ms / git, mem))
print()
print("cache hit / git credential-store get: %.2fx (goal: at most 1.3x)" % (hit / git))
print("cache hit / fresh curl fetch:         %.3fx (%.0f times faster)" % (hit / curl, curl / hit))
print("cache hit peak RSS: %.1f MiB (goal: at most 6 MiB)" % rss[1])
PY
