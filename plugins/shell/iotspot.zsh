# iotspot-helper for interactive zsh: keeps IOTSPOT_ACCESS_TOKEN fresh, and puts the helper's
# completion on fpath. In ~/.zshrc:
#
#   source /usr/share/iotspot-helper/shell/iotspot.zsh
#
# Before each prompt a precmd hook compares IOTSPOT_TOKEN_EXPIRES_AT with the shell's own
# clock ($EPOCHSECONDS from zsh/datetime) and runs `iotspot-helper env` only when the token
# is missing, near expiry or belongs to another profile; a prompt with a fresh token runs no
# process at all.
#
#   IOTSPOT_PROFILE       profile whose token is kept (default: "default")
#   IOTSPOT_HELPER        the helper to run (default: iotspot-helper on PATH)
#   IOTSPOT_SHELL_MARGIN  refresh this many seconds before expiry (default 300, like the helper)
#   IOTSPOT_SHELL_RETRY   after a failure, wait this many seconds before trying again (default 60)
#   IOTSPOT_TIMEOUT       how long the helper may wait for the token server (default here 10)
#
# Sourcing this before or after compinit both work. See docs/integrations.md.

# -- keeping the token fresh ---------------------------------------------------------------

if zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null; then
    _iotspot_clock() { _iotspot_now=$EPOCHSECONDS }
else
    _iotspot_clock() { _iotspot_now=$(date +%s) }
fi

# Sets _iotspot_n to the whole number of seconds in parameter $1, else to $2.
_iotspot_seconds() {
    _iotspot_n=${(P)1-}
    if [[ $_iotspot_n == <-> && ${#_iotspot_n} -lt 10 ]]; then
        _iotspot_n=$((10#$_iotspot_n))
    else
        _iotspot_n=$2
    fi
}

_iotspot_hook() {
    local last_status=$?
    emulate -L zsh
    local profile=${IOTSPOT_PROFILE:-default} expires=${IOTSPOT_TOKEN_EXPIRES_AT-} margin retry
    _iotspot_seconds IOTSPOT_SHELL_MARGIN 300
    margin=$_iotspot_n
    _iotspot_clock
    # A token inherited from the parent shell or set by `eval "$(iotspot-helper env)"`
    # belongs to the profile in force when the hook first sees it.
    (( ${+_iotspot_profile} )) || typeset -g _iotspot_profile=$profile
    if [[ $profile == "$_iotspot_profile" ]]; then
        if [[ -n ${IOTSPOT_ACCESS_TOKEN-} && $expires == <-> && ${#expires} -lt 19 ]] &&
            (( _iotspot_now < 10#$expires - margin )); then
            return last_status
        fi
        if (( _iotspot_now < ${_iotspot_retry_at:-0} )); then
            return last_status
        fi
    fi
    _iotspot_seconds IOTSPOT_SHELL_RETRY 60
    retry=$_iotspot_n
    _iotspot_refresh $profile $margin $retry
    return last_status
}

_iotspot_refresh() {
    emulate -L zsh
    local profile=$1 margin=$2 retry=$3 helper=${IOTSPOT_HELPER:-iotspot-helper}
    local out rc line token= expires= message left
    out=$(IOTSPOT_TIMEOUT=${IOTSPOT_TIMEOUT:-10} command $helper --profile $profile env --shell zsh 2>&1 </dev/null)
    rc=$?
    _iotspot_clock
    if (( rc == 0 )); then
        for line in ${(f)out}; do
            if [[ $line == "export IOTSPOT_ACCESS_TOKEN='"*"';" ]]; then
                token=${${line#*=\'}%\'\;}
            elif [[ $line == "export IOTSPOT_TOKEN_EXPIRES_AT='"<->"';" ]]; then
                expires=${${line#*=\'}%\'\;}
            fi
        done
        if [[ -n $token && $token != *\'* && -n $expires ]]; then
            export IOTSPOT_ACCESS_TOKEN=$token IOTSPOT_TOKEN_EXPIRES_AT=$expires
            typeset -g _iotspot_profile=$profile _iotspot_warned=
            # The helper keeps a token it still finds fresh (its margin is at most half the
            # token's lifetime); ask again later instead of at every prompt.
            left=$(( 10#$expires - _iotspot_now ))
            if (( left <= margin )); then
                (( left /= 2, left < 1 && (left = 1), left > retry && (left = retry) ))
                typeset -g _iotspot_retry_at=$(( _iotspot_now + left ))
            else
                typeset -g _iotspot_retry_at=0
            fi
            return 0
        fi
    fi
    if (( rc == 0 )); then
        message="$helper env printed something unexpected" # never echo it: it may hold a token
    elif (( rc == 127 )) && ! (( $+commands[$helper] )) && [[ ! -x $helper ]]; then
        message="$helper not found; put it on PATH or set IOTSPOT_HELPER"
    else
        local -a lines=("${(@f)out}")
        message=${lines[-1]-}
        message=${message#iotspot-helper: }
        [[ -n $message ]] || message="$helper exited with status $rc"
    fi
    # Keep the old token when it is this profile's; never another profile's.
    if [[ $profile != "${_iotspot_profile-}" ]]; then
        unset IOTSPOT_ACCESS_TOKEN IOTSPOT_TOKEN_EXPIRES_AT
        typeset -g _iotspot_profile=$profile
    fi
    typeset -g _iotspot_retry_at=$(( _iotspot_now + retry ))
    # The same failure again is not worth another line at every retry.
    if [[ $message != "${_iotspot_warned-}" ]]; then
        print -r -u2 -- "iotspot: IOTSPOT_ACCESS_TOKEN not refreshed: $message"
        typeset -g _iotspot_warned=$message
    fi
    return 1
}

autoload -Uz add-zsh-hook
add-zsh-hook precmd _iotspot_hook

# -- completion ------------------------------------------------------------------------------

# Completion is generated by the helper itself (`iotspot-helper completion zsh`) and installed
# as _iotspot-helper in <prefix>/share/zsh/vendor-completions (/usr) or site-functions (other
# prefixes). Put that folder on fpath for compinit, and register it now if compinit already ran.
() {
    local dir
    for dir in ${0:A:h}/../../zsh/{vendor-completions,site-functions}; do
        [[ -r $dir/_iotspot-helper ]] || continue
        (( ${fpath[(Ie)${dir:A}]} )) || fpath+=(${dir:A})
        if (( $+functions[compdef] )); then
            autoload -Uz _iotspot-helper
            compdef _iotspot-helper iotspot-helper
            compdef iotspot-curl=curl
        fi
        return
    done
}
