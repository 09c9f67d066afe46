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
build_log=$(mktemp)
if ! scripts/build.sh >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  echo "demo: the build failed (its end is above); scripts/build.sh shows all of it" >&2
  exit 1
fi
rm -f "$build_log"
helper=$root/build/iotspot-helper

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
short() { sed -E 's/(eyJ[A-Za-z0-9_-]{8})[A-Za-z0-9._~+\/=-]*/\1…(shortened)/g'; }
millis() { date +%s%3N; }

curl_args=()
if [ -n "${IOTSPOT_CLIENT_ID:-}" ] || "$helper" status >/dev/null 2>&1; then
  echo "Using your configured credentials (profile ${IOTSPOT_PROFILE:-default})."
  api_url=""
else
  echo "No credentials configured: starting the local test token server (a Cognito stand-in)."
  # shellcheck source=scripts/lib/local_server.sh
  . scripts/lib/local_server.sh
  say "iotspot-helper configure --client-id ID --token-url <local>/oauth2/token --ca-file ca.pem --api-url <local> --client-secret-stdin"
  start_local_server "$(mktemp -d /tmp/iotspot-demo.XXXXXX)" "$helper"
  api_url=$LOCAL_API_URL
  curl_args=(--cacert "$LOCAL_CA")
fi

say "iotspot-helper token        # first call: fetched from the token server"
start=$(millis); "$helper" token | short; first=$(( $(millis) - start ))
say "iotspot-helper --verbose token        # second call: from the encrypted cache"
start=$(millis); "$helper" --verbose token 2>&1 | short; second=$(( $(millis) - start ))
echo "(first call ${first} ms, cache hit ${second} ms)"

say "iotspot-helper header"
"$helper" header | short

# shellcheck disable=SC2016 # the command is shown as typed, not expanded
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
