#!/bin/bash
# Runs inside a fresh Debian root after `apt-get install ./iotspot-helper_*.deb`, as a user
# would meet the package (scripts/test-package.sh copies it there and runs it):
#
#   check-installed.sh VERSION SUPPORT_DIR
#
# VERSION is the upstream version `iotspot-helper --version` must print; SUPPORT_DIR holds a
# copy of tests/e2e/support (the test token server and its PKI). Needs the test tools
# test-package.sh installs after the package: man-db, systemd, httpie, openssl, zsh, fish. Leaves the
# user's files in HOME for the purge check that follows.
set -euo pipefail

version=$1
support=$2
fail() { echo "check-installed: FAIL: $*" >&2; exit 1; }
ok() { echo "check-installed: ok: $*"; }

# -- the programs, on PATH -------------------------------------------------------------------
[[ $(iotspot-helper --version) == "iotspot-helper $version" ]] ||
  fail "iotspot-helper --version printed $(iotspot-helper --version)"
[[ $(command -v git-credential-iotspot) == /usr/bin/git-credential-iotspot ]] ||
  fail "git-credential-iotspot is not on PATH"
[[ -x /usr/bin/iotspot-curl ]] || fail "iotspot-curl is missing"
ok "iotspot-helper --version: $(iotspot-helper --version)"

# -- man pages ---------------------------------------------------------------------------------
for page in iotspot-helper git-credential-iotspot iotspot-curl; do
  [[ $(man -w "$page") == /usr/share/man/man1/$page.1.gz ]] || fail "man -w $page: $(man -w "$page")"
  warnings=$(MANWIDTH=80 man --warnings "$page" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "man --warnings $page: $warnings"
done
MANWIDTH=80 man iotspot-helper | grep -q "EXIT STATUS" || fail "man iotspot-helper has no EXIT STATUS"
ok "man -w iotspot-helper: $(man -w iotspot-helper)"

# -- the local test token server, and two profiles ----------------------------------------------
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work/pki" "$support/.." <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from support.pki import make_pki
make_pki(sys.argv[1])
PY
ca=$work/pki/ca.pem
client_id=pkgtest$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
(umask 077; printf '{"%s": "%s"}' "$client_id" "$secret" >"$work/clients.json")
python3 "$support/token_server.py" --cert "$work/pki/server.pem" --key "$work/pki/server.key" \
  --clients "$work/clients.json" --port-file "$work/port" >/dev/null &
server=$!
for _ in $(seq 200); do [[ -s $work/port ]] && break; sleep 0.05; done
[[ -s $work/port ]] || fail "the test token server did not start"
api=https://127.0.0.1:$(cat "$work/port")
for profile in default staging; do
  printf '%s\n' "$secret" | iotspot-helper --profile "$profile" configure --client-id "$client_id" \
    --token-url "$api/oauth2/token" --ca-file "$ca" --api-url "$api" --client-secret-stdin
done
token=$(iotspot-helper token)
ok "iotspot-helper token against $api"

# -- bash completion, loaded by bash-completion's own loader -------------------------------------
complete_line() {
  bash -c '
    . /usr/share/bash-completion/bash_completion
    if declare -F _comp_load >/dev/null; then _comp_load iotspot-helper; else __load_completion iotspot-helper; fi ||
      { echo "bash-completion did not load a completion for iotspot-helper" >&2; exit 3; }
    function=$(complete -p iotspot-helper | sed -E "s/.* -F ([^ ]+) .*/\1/")
    COMP_WORDS=(iotspot-helper "$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
    "$function" iotspot-helper "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
[[ $(complete_line to) == token ]] || fail "bash: iotspot-helper to<TAB> gave: $(complete_line to)"
profiles=$(complete_line --profile "" | sort | tr '\n' ' ')
[[ $profiles == "default staging " ]] || fail "bash: --profile <TAB> gave: $profiles"
ok "bash: iotspot-helper to<TAB> -> token; --profile <TAB> -> $profiles"

# -- zsh and fish find theirs with nothing configured ----------------------------------------------
found=$(zsh -fc 'autoload -Uz compinit; compinit -u -D; print -r -- ${_comps[iotspot-helper]-}')
[[ $found == _iotspot-helper ]] || fail "zsh: compinit did not find _iotspot-helper on its default fpath"
offered=$(HOME=$(mktemp -d) fish -c 'complete -C "iotspot-helper to"' | cut -f1)
[[ $offered == token ]] || fail "fish: iotspot-helper to<TAB> gave: $offered"
ok "zsh: compinit registers _iotspot-helper; fish: iotspot-helper to<TAB> -> token"

# -- git finds the credential helper on PATH ----------------------------------------------------
git config --global "credential.$api.helper" iotspot
answer=$(printf 'protocol=https\nhost=127.0.0.1:%s\n\n' "$(cat "$work/port")" |
  GIT_TERMINAL_PROMPT=0 git credential fill)
grep -qx "password=$token" <<<"$answer" || fail "git credential fill did not answer with the token"
ok "git credential fill: answered by git-credential-iotspot"

# -- the systemd user units -----------------------------------------------------------------------
runtime=$(mktemp -d)
chmod 0700 "$runtime"
grep -q '^ExecStart=/usr/bin/iotspot-helper ' /usr/lib/systemd/user/iotspot-helper-prefetch.service ||
  fail "the prefetch unit does not name /usr/bin/iotspot-helper"
out=$(XDG_RUNTIME_DIR=$runtime SYSTEMD_LOG_LEVEL=warning systemd-analyze --user verify \
  /usr/lib/systemd/user/iotspot-helper-prefetch.service \
  /usr/lib/systemd/user/iotspot-helper-prefetch.timer \
  /usr/lib/systemd/user/iotspot-helper-serve.service \
  /usr/lib/systemd/user/iotspot-helper-sink@default.service 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify complained: $out"
rm -rf "$runtime"
ok "systemd-analyze verify: the four units"

# -- HTTPie finds the plugin where the package put it -----------------------------------------------
body=$(http --ignore-stdin --check-status --body --verify="$ca" --auth-type=iotspot "$api/v1/ping") ||
  fail "http --auth-type=iotspot $api/v1/ping failed"
ok "http --auth-type=iotspot: $body"
