# iotspot-helper for interactive fish: keeps IOTSPOT_ACCESS_TOKEN fresh, and loads the helper's
# completion. In ~/.config/fish/config.fish:
#
#   source /usr/share/iotspot-helper/shell/iotspot.fish
#
# Before each prompt a hook compares IOTSPOT_TOKEN_EXPIRES_AT with the shell's own clock and
# runs `iotspot-helper env` only when the token is missing, near expiry or belongs to another
# profile; a prompt with a fresh token runs no process at all. fish has no clock builtin:
# `path mtime --relative` (fish 3.5 and later) gives a file's age in seconds, so the hook
# adds the age of / to its modification time. Older fish versions run `date` instead.
#
#   IOTSPOT_PROFILE       profile whose token is kept (default: "default")
#   IOTSPOT_HELPER        the helper to run (default: iotspot-helper on PATH)
#   IOTSPOT_SHELL_MARGIN  refresh this many seconds before expiry (default 300, like the helper)
#   IOTSPOT_SHELL_RETRY   after a failure, wait this many seconds before trying again (default 60)
#   IOTSPOT_TIMEOUT       how long the helper may wait for the token server (default here 10)
#
# See docs/integrations.md.

# -- keeping the token fresh ---------------------------------------------------------------

if builtin -q path 2>/dev/null
    function __iotspot_clock
        set -g __iotspot_now (math (path mtime /) + (path mtime --relative /))
    end
else
    function __iotspot_clock
        set -g __iotspot_now (command date +%s)
    end
end

# The whole number of seconds in $argv[1], else $argv[2].
function __iotspot_seconds
    if string match -qr '^[0-9]{1,9}$' -- "$argv[1]"
        math "$argv[1]"
    else
        echo $argv[2]
    end
end

function __iotspot_hook --on-event fish_prompt
    set -l profile default
    test -n "$IOTSPOT_PROFILE"; and set profile $IOTSPOT_PROFILE
    set -l margin (__iotspot_seconds "$IOTSPOT_SHELL_MARGIN" 300)
    __iotspot_clock
    # A token inherited from the parent shell or set by `iotspot-helper env --shell fish | source`
    # belongs to the profile in force when the hook first sees it.
    set -q __iotspot_profile; or set -g __iotspot_profile $profile
    if test "$profile" = "$__iotspot_profile"
        if test -n "$IOTSPOT_ACCESS_TOKEN"
            and string match -qr '^[0-9]{1,18}$' -- "$IOTSPOT_TOKEN_EXPIRES_AT"
            and test $__iotspot_now -lt (math $IOTSPOT_TOKEN_EXPIRES_AT - $margin)
            return
        end
        set -q __iotspot_retry_at; and test $__iotspot_now -lt $__iotspot_retry_at; and return
    end
    __iotspot_refresh $profile $margin (__iotspot_seconds "$IOTSPOT_SHELL_RETRY" 60)
end

function __iotspot_refresh -a profile margin retry
    set -l helper iotspot-helper
    test -n "$IOTSPOT_HELPER"; and set helper $IOTSPOT_HELPER
    set -l timeout 10
    test -n "$IOTSPOT_TIMEOUT"; and set timeout $IOTSPOT_TIMEOUT
    set -l out
    set -l rc 127
    if command -q $helper
        set out (IOTSPOT_TIMEOUT=$timeout command $helper --profile $profile env --shell fish 2>&1 </dev/null)
        set rc $status
    end
    __iotspot_clock
    if test $rc -eq 0
        set -l token (string replace -rf "^set -gx IOTSPOT_ACCESS_TOKEN '([^'\\\\]+)';\$" '$1' -- $out)
        set -l expires (string replace -rf "^set -gx IOTSPOT_TOKEN_EXPIRES_AT '([0-9]{1,18})';\$" '$1' -- $out)
        if test (count $token) -eq 1 -a (count $expires) -eq 1
            set -gx IOTSPOT_ACCESS_TOKEN $token
            set -gx IOTSPOT_TOKEN_EXPIRES_AT $expires
            set -g __iotspot_profile $profile
            set -g __iotspot_warned
            # The helper keeps a token it still finds fresh (its margin is at most half the
            # token's lifetime); ask again later instead of at every prompt.
            set -l left (math $expires - $__iotspot_now)
            if test $left -le $margin
                set -g __iotspot_retry_at (math "$__iotspot_now + min(max(1, floor($left / 2)), $retry)")
            else
                set -g __iotspot_retry_at 0
            end
            return 0
        end
    end
    set -l message
    if test $rc -eq 0
        set message "$helper env printed something unexpected" # never echo it: it may hold a token
    else if test $rc -eq 127; and not command -q $helper
        set message "$helper not found; put it on PATH or set IOTSPOT_HELPER"
    else
        set message (string replace -r '^iotspot-helper: ' '' -- $out[-1])
        test -n "$message"; or set message "$helper exited with status $rc"
    end
    # Keep the old token when it is this profile's; never another profile's.
    if test "$profile" != "$__iotspot_profile"
        set -e IOTSPOT_ACCESS_TOKEN
        set -e IOTSPOT_TOKEN_EXPIRES_AT
        set -g __iotspot_profile $profile
    end
    set -g __iotspot_retry_at (math $__iotspot_now + $retry)
    # The same failure again is not worth another line at every retry.
    if test "$message" != "$__iotspot_warned"
        printf 'iotspot: IOTSPOT_ACCESS_TOKEN not refreshed: %s\n' $message >&2
        set -g __iotspot_warned $message
    end
    return 1
end

# -- completion ------------------------------------------------------------------------------

# Completion is generated by the helper itself (`iotspot-helper completion fish`) and installed
# in <prefix>/share/fish/vendor_completions.d, which fish reads for /usr and /usr/local; load
# it from there for other prefixes.
if not complete -c iotspot-helper | string length -q
    set -l file (status dirname)/../../fish/vendor_completions.d/iotspot-helper.fish
    test -r $file; and source $file
end
