# shellcheck shell=bash
# Sourced by scripts/demo.sh and scripts/bench.sh (bash): starts the bundled test token
# server, a stand-in for Cognito over TLS with a CA made for this run, in directory $1, and
# configures profile "default" of the helper $2 against it. Uses XDG_* below $1, so the
# user's own configuration is left alone. Sets LOCAL_API_URL, LOCAL_CA, LOCAL_CLIENT_ID and
# LOCAL_CLIENT_SECRET; stops the server on exit.

start_local_server() {
  local dir=$1 helper=$2 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  export XDG_CONFIG_HOME=$dir/config XDG_CACHE_HOME=$dir/cache XDG_DATA_HOME=$dir/data
  unset IOTSPOT_PROFILE IOTSPOT_CLIENT_ID IOTSPOT_CLIENT_SECRET IOTSPOT_TOKEN_URL IOTSPOT_SCOPE IOTSPOT_CA_FILE

  /usr/bin/python3 - "$dir/pki" "$root/tests/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from support.pki import make_pki
make_pki(sys.argv[1])
PY
  LOCAL_CA=$dir/pki/ca.pem
  LOCAL_CLIENT_ID=local$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
  LOCAL_CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
  (umask 077; printf '{"%s": "%s"}' "$LOCAL_CLIENT_ID" "$LOCAL_CLIENT_SECRET" >"$dir/clients.json")
  /usr/bin/python3 "$root/tests/e2e/support/token_server.py" --cert "$dir/pki/server.pem" \
    --key "$dir/pki/server.key" --clients "$dir/clients.json" --port-file "$dir/port" >/dev/null &
  LOCAL_SERVER_PID=$!
  trap 'kill "$LOCAL_SERVER_PID" 2>/dev/null; wait "$LOCAL_SERVER_PID" 2>/dev/null; rm -rf "'"$dir"'"' EXIT
  for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
  [ -s "$dir/port" ] || { echo "the local token server did not start" >&2; return 1; }
  LOCAL_API_URL=https://127.0.0.1:$(cat "$dir/port")

  printf '%s\n' "$LOCAL_CLIENT_SECRET" | "$helper" configure --client-id "$LOCAL_CLIENT_ID" \
    --token-url "$LOCAL_API_URL/oauth2/token" --ca-file "$LOCAL_CA" --api-url "$LOCAL_API_URL" \
    --client-secret-stdin
}
