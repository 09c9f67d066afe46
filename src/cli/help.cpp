#include "cli/help.h"

#ifndef IOTSPOT_VERSION
#define IOTSPOT_VERSION "0.0.0"
#endif

namespace iotspot::cli {

namespace {

constexpr const char* overview = R"~(usage: iotspot-helper [--profile P] [--verbose] COMMAND [OPTIONS]

Gets OAuth2 tokens for the iotspot API, caches them encrypted until close to
expiry, and hands them to scripts, shells and tools.

Commands:
  configure   store a profile: client id, token URL, scope; the secret encrypted
  token       print the access token
  header      print "Authorization: Bearer <token>"
  env         print shell assignments of IOTSPOT_ACCESS_TOKEN, IOTSPOT_TOKEN_EXPIRES_AT
  exec        run a command with those two variables set
  status      show profiles and cached tokens (never a token or secret)
  logout      drop cached tokens (and with --forget-secret, the stored secret)
  get, store, erase
              the git credential-helper protocol on stdin/stdout
  prefetch    refresh tokens ahead of time (for cron and systemd timers)
  serve       answer token requests on 127.0.0.1 for Postman-like tools

Options for every command:
  --profile P       the profile to use (default: $IOTSPOT_PROFILE, else "default")
  --verbose, -v     say what happens on stderr (never a token or secret)
  --help, -h        this text, or a command's (iotspot-helper token --help)
  --version, -V     the version

Environment (overrides the config file; enough on its own in CI):
  IOTSPOT_CLIENT_ID, IOTSPOT_CLIENT_SECRET, IOTSPOT_TOKEN_URL, IOTSPOT_SCOPE,
  IOTSPOT_CA_FILE, IOTSPOT_PROFILE, IOTSPOT_TIMEOUT (seconds, default 20)

Files:
  $XDG_CONFIG_HOME/iotspot-helper/config      profiles (default ~/.config)
  $XDG_CACHE_HOME/iotspot-helper/tokens.db    encrypted token cache (default ~/.cache)
  $XDG_DATA_HOME/iotspot-helper/key, secrets.db
                                              key and encrypted secrets (default ~/.local/share)

Exit status:
  0  success
  1  prefetch: some profiles failed; or an unexpected internal error
  2  usage error
  3  not configured: no profile, client id or secret; bad config file
  4  the token server rejected the credentials or request
  5  token server unreachable, TLS failure, timeout, server error or malformed answer
  6  local key or store problem (permissions, damaged or newer files)

Documentation: docs/usage.md, docs/integrations.md.
)~";

struct CommandHelp {
    const char* command;
    const char* text;
};

constexpr CommandHelp command_help[] = {
    {"configure", R"~(usage: iotspot-helper configure [--profile P] --client-id ID [--token-url URL]
           [--scope S] [--api-url URL] [--ca-file F] [--refresh-margin SECONDS]
           [--client-secret-stdin]

Writes the profile to the config file and stores the client secret encrypted.
The secret is read from the terminal without echo, or, with --client-secret-stdin,
from the first line of standard input; never from the command line.
Reconfiguring an existing profile keeps the settings you do not pass, and keeps
its stored secret when none is given and the client id is unchanged.

  --token-url URL        default: iotspot's production token endpoint
  --scope S              default: iotspot/openapi
  --api-url URL          the API this profile's tokens are for (git and plugins
                         match requests against it); default https://openapi.prod.iotspot.co
  --ca-file F            PEM file of extra CA certificates to trust
  --refresh-margin S     refresh a cached token this long before it expires (300)
)~"},
    {"token", R"~(usage: iotspot-helper token [--profile P] [--min-ttl SECONDS] [--json]

Prints the access token and a newline: the cached one while it is fresh, else a
new one from the token server. --min-ttl asks for at least that much remaining
life for this call. --json prints {"access_token","token_type","expires_at","expires_in"}.
)~"},
    {"header", R"~(usage: iotspot-helper header [--profile P] [--min-ttl SECONDS] [--json]

Prints "Authorization: Bearer <token>" and a newline (for curl -H @- and the like).
)~"},
    {"env", R"~(usage: iotspot-helper env [--profile P] [--shell sh|bash|zsh|fish|powershell]
           [--min-ttl SECONDS] [--json]

Prints assignments of IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT (Unix
seconds) for the shell, default POSIX sh:
  eval "$(iotspot-helper env)"                       sh, bash, zsh, dash
  iotspot-helper env --shell fish | source           fish
  iotspot-helper env --shell powershell | Invoke-Expression
)~"},
    {"exec", R"~(usage: iotspot-helper exec [--profile P] [--min-ttl SECONDS] -- COMMAND [ARGS...]

Runs COMMAND with IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT set and exits
with its status (126 when it cannot be run, 127 when it is not found).
)~"},
    {"status", R"~(usage: iotspot-helper status [--json]

Shows each profile: its client id, token URL, whether a secret is stored, and
whether a token is cached and when it expires. Never shows a token or secret.
)~"},
    {"logout", R"~(usage: iotspot-helper logout [--profile P | --all] [--forget-secret]

Drops the cached token of the profile (or of every profile with --all), so the
next call fetches a new one. --forget-secret also deletes the stored client secret.
)~"},
};

} // namespace

std::string help_text(const std::string& command) {
    for (const auto& entry : command_help) {
        if (command == entry.command) {
            return entry.text;
        }
    }
    return overview;
}

std::string version_text() { return std::string("iotspot-helper ") + IOTSPOT_VERSION + "\n"; }

} // namespace iotspot::cli
