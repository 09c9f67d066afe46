#!/bin/bash
# The main job, end to end: bootstraps, builds, and shows iotspot-helper handing out tokens.
#
# With real credentials configured (a default profile, or IOTSPOT_CLIENT_ID and
# IOTSPOT_CLIENT_SECRET in the environment) it uses them. Otherwise it starts the bundled
# local test token server (a stand-in for Cognito, over TLS with a CA made for this run) and
# a demo profile in a throwaway directory, leaving your own configuration alone.
# Tokens are shown shortened: they are credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/bootstrap.sh
scripts/build.sh >/dev/null
helper=$root/build/iotspot-helper

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
short() { sed -E 's/(eyJ[A-Za-z0-9_-]{8})[A-Za-z0-9._~+\/=-]*/\1…(shortened)/g'; }
millis() { date +%s%3N; }

curl_args=()
if [ -n "${IOTSPOT_CLIENT_ID:-}" ] || "$helper" status >/dev/null 2>&1; then
  echo "Using your configured credentials (profile ${IOTSPOT_PROFILE:-default})."
  api_url=""
else
  demo=$(mktemp -d /tmp/iotspot-demo.XXXXXX)
  server_pid=""
  cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$demo"
  }
  trap cleanup EXIT
  export XDG_CONFIG_HOME=$demo/config XDG_CACHE_HOME=$demo/cache XDG_DATA_HOME=$demo/data
  unset IOTSPOT_PROFILE IOTSPOT_TOKEN_URL IOTSPOT_SCOPE IOTSPOT_CA_FILE IOTSPOT_CLIENT_SECRET

  echo "No credentials configured: starting the local test token server (a Cognito stand-in)."
  /usr/bin/python3 - "$demo/pki" <<'PY'
import sys
sys.path.insert(0, "tests/e2e")
from support.pki import make_pki
make_pki(sys.argv[1])
PY
  client_id=demo$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
  secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
  (umask 077; printf '{"%s": "%s"}' "$client_id" "$secret" >"$demo/clients.json")
  /usr/bin/python3 tests/e2e/support/token_server.py --cert "$demo/pki/server.pem" \
    --key "$demo/pki/server.key" --clients "$demo/clients.json" \
    --port-file "$demo/port" >/dev/null &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$demo/port" ] && break; sleep 0.05; done
  port=$(cat "$demo/port")
  api_url=https://127.0.0.1:$port
  curl_args=(--cacert "$demo/pki/ca.pem")

  say "iotspot-helper configure --client-id $client_id --token-url $api_url/oauth2/token --ca-file ca.pem --api-url $api_url --client-secret-stdin"
  printf '%s\n' "$secret" | "$helper" configure --client-id "$client_id" \
    --token-url "$api_url/oauth2/token" --ca-file "$demo/pki/ca.pem" --api-url "$api_url" \
    --client-secret-stdin
fi

say "iotspot-helper token        # first call: fetched from the token server"
start=$(millis); "$helper" token | short; first=$(( $(millis) - start ))
say "iotspot-helper --verbose token        # second call: from the encrypted cache"
start=$(millis); "$helper" --verbose token 2>&1 | short; second=$(( $(millis) - start ))
echo "(first call ${first} ms, cache hit ${second} ms)"

say "iotspot-helper header"
"$helper" header | short

say 'eval "$(iotspot-helper env)"; echo "${#IOTSPOT_ACCESS_TOKEN} characters, expires at $IOTSPOT_TOKEN_EXPIRES_AT"'
eval "$("$helper" env)"
echo "${#IOTSPOT_ACCESS_TOKEN} characters, expires at $IOTSPOT_TOKEN_EXPIRES_AT"

if [ -n "$api_url" ]; then
  say "iotspot-helper header | curl -H @- $api_url/v1/ping        # the token at work"
  "$helper" header | curl -sS "${curl_args[@]}" -H @- "$api_url/v1/ping"
  echo
fi

say "iotspot-helper status"
"$helper" status
