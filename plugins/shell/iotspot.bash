# iotspot-helper for interactive bash: keeps IOTSPOT_ACCESS_TOKEN fresh, and loads the helper's
# completion when bash-completion does not. In ~/.bashrc:
#
#   source /usr/share/iotspot-helper/shell/iotspot.bash
#
# Before each prompt a hook compares IOTSPOT_TOKEN_EXPIRES_AT with the shell's own clock
# ($EPOCHSECONDS) and runs `iotspot-helper env` only when the token is missing, near expiry
# or belongs to another profile; a prompt with a fresh token runs no process at all.
#
#   IOTSPOT_PROFILE       profile whose token is kept (default: "default")
#   IOTSPOT_HELPER        the helper to run (default: iotspot-helper on PATH)
#   IOTSPOT_SHELL_MARGIN  refresh this many seconds before expiry (default 300, like the helper)
#   IOTSPOT_SHELL_RETRY   after a failure, wait this many seconds before trying again (default 60)
#   IOTSPOT_TIMEOUT       how long the helper may wait for the token server (default here 10)
#
# See docs/integrations.md. Needs bash 4.2 or later for a clock without a process (5.0 or later
# for $EPOCHSECONDS); older versions run `date` before each prompt.

# -- keeping the token fresh ---------------------------------------------------------------

if ((BASH_VERSINFO[0] >= 5)); then
    _iotspot_clock() { _iotspot_now=$EPOCHSECONDS; }
elif ((BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 2)); then
    _iotspot_clock() { printf -v _iotspot_now '%(%s)T' -1; }
else
    _iotspot_clock() { _iotspot_now=$(date +%s); }
fi

# Sets _iotspot_n to the whole number of seconds in variable $1, else to $2.
_iotspot_seconds() {
    _iotspot_n=${!1-}
    if [[ -n $_iotspot_n && $_iotspot_n != *[!0-9]* && ${#_iotspot_n} -lt 10 ]]; then
        _iotspot_n=$((10#$_iotspot_n))
    else
        _iotspot_n=$2
    fi
}

_iotspot_hook() {
    local status=$? profile=${IOTSPOT_PROFILE:-default} expires=${IOTSPOT_TOKEN_EXPIRES_AT-}
    local margin retry
    _iotspot_seconds IOTSPOT_SHELL_MARGIN 300
    margin=$_iotspot_n
    _iotspot_clock
    # A token inherited from the parent shell or set by `eval "$(iotspot-helper env)"`
    # belongs to the profile in force when the hook first sees it.
    [[ -n ${_iotspot_profile+set} ]] || _iotspot_profile=$profile
    if [[ $profile == "$_iotspot_profile" ]]; then
        if [[ -n ${IOTSPOT_ACCESS_TOKEN-} && -n $expires && $expires != *[!0-9]* &&
            ${#expires} -lt 19 ]] && ((_iotspot_now < 10#$expires - margin)); then
            return "$status"
        fi
        if ((_iotspot_now < ${_iotspot_retry_at:-0})); then
            return "$status"
        fi
    fi
    _iotspot_seconds IOTSPOT_SHELL_RETRY 60
    retry=$_iotspot_n
    _iotspot_refresh "$profile" "$margin" "$retry"
    return "$status"
}

_iotspot_refresh() {
    local profile=$1 margin=$2 retry=$3 helper=${IOTSPOT_HELPER:-iotspot-helper} out rc
    local re_token="(^|"$'\n'")export IOTSPOT_ACCESS_TOKEN='([^']+)';"
    local re_expires="(^|"$'\n'")export IOTSPOT_TOKEN_EXPIRES_AT='([0-9]+)';"
    local token expires message
    out=$(IOTSPOT_TIMEOUT=${IOTSPOT_TIMEOUT:-10} command "$helper" --profile "$profile" env --shell bash 2>&1 </dev/null)
    rc=$?
    _iotspot_clock
    if ((rc == 0)) && [[ $out =~ $re_token ]]; then
        token=${BASH_REMATCH[2]}
        if [[ $out =~ $re_expires ]]; then
            expires=${BASH_REMATCH[2]}
            export IOTSPOT_ACCESS_TOKEN="$token" IOTSPOT_TOKEN_EXPIRES_AT="$expires"
            _iotspot_profile=$profile _iotspot_warned=
            # The helper keeps a token it still finds fresh (its margin is at most half the
            # token's lifetime); ask again later instead of at every prompt.
            local left=$((10#$expires - _iotspot_now))
            if ((left <= margin)); then
                ((left /= 2, left < 1 && (left = 1), left > retry && (left = retry)))
                _iotspot_retry_at=$((_iotspot_now + left))
            else
                _iotspot_retry_at=0
            fi
            return 0
        fi
    fi
    if ((rc == 0)); then
        message="$helper env printed something unexpected" # never echo it: it may hold a token
    elif ((rc == 127)) && ! type -P "$helper" >/dev/null; then
        message="$helper not found; put it on PATH or set IOTSPOT_HELPER"
    else
        out=${out%$'\n'}
        message=${out##*$'\n'}
        message=${message#iotspot-helper: }
        [[ -n $message ]] || message="$helper exited with status $rc"
    fi
    # Keep the old token when it is this profile's; never another profile's.
    if [[ $profile != "${_iotspot_profile-}" ]]; then
        unset IOTSPOT_ACCESS_TOKEN IOTSPOT_TOKEN_EXPIRES_AT
        _iotspot_profile=$profile
    fi
    _iotspot_retry_at=$((_iotspot_now + retry))
    # The same failure again is not worth another line at every retry.
    if [[ $message != "${_iotspot_warned-}" ]]; then
        printf 'iotspot: IOTSPOT_ACCESS_TOKEN not refreshed: %s\n' "$message" >&2
        _iotspot_warned=$message
    fi
    return 1
}

if [[ ${PROMPT_COMMAND[*]-} != *_iotspot_hook* ]]; then
    if [[ $(declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
        PROMPT_COMMAND=(_iotspot_hook "${PROMPT_COMMAND[@]}")
    else
        # shellcheck disable=SC2128,SC2178 # the string form; the array form is the branch above
        PROMPT_COMMAND="_iotspot_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
    fi
fi

# -- completion ------------------------------------------------------------------------------

# Completion is generated by the helper itself (`iotspot-helper completion bash`) and installed
# where bash-completion finds it, <prefix>/share/bash-completion/completions/iotspot-helper.
# Without the bash-completion package nothing loads it, so load it from there.
if ! complete -p iotspot-helper >/dev/null 2>&1; then
    _iotspot_completion=${BASH_SOURCE[0]%/*}/../../bash-completion/completions/iotspot-helper
    # shellcheck source=/dev/null
    [[ -r $_iotspot_completion ]] && source "$_iotspot_completion"
    unset _iotspot_completion
fi
