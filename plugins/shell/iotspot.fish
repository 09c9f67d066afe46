# iotspot-helper for interactive fish: keeps IOTSPOT_ACCESS_TOKEN fresh and completes
# iotspot-helper's commands, options and profile names. In ~/.config/fish/config.fish:
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

# Profile names from the config file, read by the shell itself (no process).
function __iotspot_profiles
    set -l dir ~/.config
    test -n "$XDG_CONFIG_HOME"; and set dir $XDG_CONFIG_HOME
    set -l file $dir/iotspot-helper/config
    test -r $file; or return 0
    string replace -rf '^\s*\[profile "([^"]+)"\]\s*$' '$1' <$file
end

# The command word on the command line so far (empty when there is none yet).
function __iotspot_command
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    for token in $tokens
        if test $skip -eq 1
            set skip 0
        else if contains -- $token --profile --min-ttl --shell --client-id --token-url --scope \
                --api-url --ca-file --refresh-margin --jobs --port
            set skip 1
        else if not string match -q -- '-*' $token
            echo $token
            return 0
        end
    end
    return 1
end

function __iotspot_using
    contains -- (__iotspot_command) $argv
end

# After `exec [--]`: what the command being run would complete.
function __iotspot_exec_complete
    set -l tokens (commandline -opc)
    set -l index (contains -i -- exec $tokens)
    set -l rest $tokens[(math $index + 1)..-1]
    while set -q rest[1]; and string match -q -- '-*' $rest[1]
        set -l option $rest[1]
        set -e rest[1]
        test "$option" = --; and break
        test "$option" = --min-ttl -o "$option" = --profile; and set -e rest[1]
    end
    set -l current (commandline -ct)
    # Before the command: exec's own options, completed by the entries below.
    not set -q rest[1]; and string match -q -- '-*' "$current"; and return
    complete -C (string join ' ' -- (string escape -- $rest) "$current")
end

function __iotspot_exec_has_command
    set -l tokens (commandline -opc)
    set -l index (contains -i -- exec $tokens); or return 1
    for token in $tokens[(math $index + 1)..-1]
        test "$token" = --; and return 0
        string match -q -- '-*' $token; or return 0
    end
    return 1
end

complete -c iotspot-helper -e
complete -c iotspot-helper -f
set -l c complete -c iotspot-helper -n 'not __iotspot_command >/dev/null' -a
$c configure -d 'store a profile; the secret encrypted'
$c token -d 'print the access token'
$c header -d 'print "Authorization: Bearer <token>"'
$c env -d 'print shell assignments of the token and its expiry'
$c exec -d 'run a command with the token in its environment'
$c status -d 'show profiles and cached tokens'
$c logout -d 'drop cached tokens'
$c get -d 'git credential-helper protocol: get'
$c store -d 'git credential-helper protocol: store'
$c erase -d 'git credential-helper protocol: erase'
$c prefetch -d 'refresh tokens ahead of time'
$c serve -d 'answer token requests on 127.0.0.1'
$c help -d 'show help'
$c version -d 'show the version'

# The options of each command, as in src/cli/args.cpp.
set -l o complete -c iotspot-helper -n 'not __iotspot_exec_has_command'
$o -l profile -x -a '(__iotspot_profiles)' -d 'the profile to use'
$o -s v -l verbose -d 'say what happens on stderr'
$o -s h -l help -d 'show help'
$o -s V -l version -d 'show the version'
set -l u complete -c iotspot-helper -n
$u '__iotspot_using token header env exec get prefetch; and not __iotspot_exec_has_command' -l min-ttl -x -d 'at least this much remaining life (seconds)'
$u '__iotspot_using token header env status' -l json -d 'print JSON'
$u '__iotspot_using env' -l shell -x -a 'sh bash zsh dash ksh fish powershell pwsh' -d 'the shell to print for'
$u '__iotspot_using configure' -l client-id -x -d 'the app client id'
$u '__iotspot_using configure' -l token-url -x -d 'the token endpoint'
$u '__iotspot_using configure' -l scope -x -d 'the scope to ask for'
$u '__iotspot_using configure' -l api-url -x -d 'the API the tokens are for'
$u '__iotspot_using configure' -l ca-file -r -F -d 'PEM file of extra CA certificates'
$u '__iotspot_using configure' -l refresh-margin -x -d 'refresh this long before expiry (seconds)'
$u '__iotspot_using configure' -l client-secret-stdin -d 'read the secret from standard input'
$u '__iotspot_using logout prefetch' -l all -d 'every profile'
$u '__iotspot_using logout' -l forget-secret -d 'also delete the stored secret'
$u '__iotspot_using prefetch' -l quiet -d 'print only failures'
$u '__iotspot_using prefetch' -l jobs -x -d 'parallel refreshes'
$u '__iotspot_using serve' -l port -x -d 'the port to listen on'
$u '__iotspot_using serve' -l print-key -d 'print the access key'
$u '__iotspot_using exec' -x -a '(__iotspot_exec_complete)'

# iotspot-curl takes curl's arguments.
complete -c iotspot-curl -w curl
