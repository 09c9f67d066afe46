#include "cli/help.h"

#ifndef IOTSPOT_VERSION
#define IOTSPOT_VERSION "0.0.0"
#endif

namespace iotspot::cli {

namespace {

constexpr const char* overview =
    R"~(usage: iotspot-helper [--profile P] [--verbose] COMMAND [OPTIONS]

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

constexpr const char* credential_help =
    R"~(usage: git-credential-iotspot [--profile P] [--min-ttl SECONDS] get|store|erase
       iotspot-helper [--profile P] [--min-ttl SECONDS] get|store|erase

The credential-helper protocol of git-credential(1): git writes key=value lines
(protocol=https, host=...) on standard input and reads the answer on standard output.

  get     answers the profile whose api_url matches the request's protocol, host
          and (when git sends one) path, with username=<client id>,
          password=<access token> and password_expiry_utc=<Unix seconds>; when
          the request offers capability[]=authtype (git 2.46+), also
          authtype=Bearer, credential=<access token> and ephemeral=1.
          With --profile P (or IOTSPOT_PROFILE) only profile P may answer.
          No matching profile: no output and exit 0, so git asks its next helper.
  store   accepted and ignored: tokens come only from the token server.
  erase   drops the cached token of the matching profile (git erases after a
          401), so the next get fetches a new one.

Set it up with:
  git config --global credential.https://openapi.prod.iotspot.co.helper iotspot
See docs/integrations.md for the other ways.
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
To keep the token fresh in interactive bash, zsh or fish, source iotspot.bash,
iotspot.zsh or iotspot.fish from <prefix>/share/iotspot-helper/shell/ in your rc
file (docs/integrations.md).
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
    {"prefetch", R"~(usage: iotspot-helper prefetch [--profile P ... | --all] [--min-ttl SECONDS]
           [--jobs N] [--quiet]

Refreshes cached tokens ahead of time, so that interactive calls always hit the
cache; meant for cron and systemd timers (docs/unattended.md). A profile's token
is fetched when the cached one would not outlive --min-ttl (default: twice the
profile's refresh_margin, 600 s unless configured; a timer should pass its
interval plus the margin, see the doc).

  --profile P   a profile to refresh; repeat it for more (default: the profile
                in force, $IOTSPOT_PROFILE or "default")
  --all         every configured profile
  --jobs N      refresh up to N profiles at once (1-64, default 8)
  --quiet       print nothing for profiles that succeed

Prints one line per profile on stdout ("refreshed" or "still fresh", and when
its token expires; never the token), and one line per failed profile on stderr:
  iotspot-helper: prefetch: profile "NAME": <what failed and what to do>
Exit status: 0 all succeeded, 1 some failed; when all failed, their exit code
(the lowest one when they differ).
)~"},
    {"serve", R"~(usage: iotspot-helper serve [--port N] [--profile P]
       iotspot-helper serve --print-key

Answers GET http://127.0.0.1:N/v1/token?profile=NAME (default port 47381) with
{"access_token","token_type","expires_at","expires_in"}, from the same cache as
`token`, for tools that cannot run a program (Postman, Bruno's safe mode).
Every request needs the header X-Iotspot-Key: <key>; --print-key prints the
per-user key (created on first use). Requests with an Origin header or a Host
other than 127.0.0.1:N / localhost:N are refused. Runs in the foreground, logs
one line per request on stderr, stops on SIGTERM or Ctrl-C. --profile sets the
profile for requests that name none.
)~"},
    {"get", credential_help},
    {"store", credential_help},
    {"erase", credential_help},
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

std::string version_text() {
    return std::string("iotspot-helper ") + IOTSPOT_VERSION + "\n";
}

} // namespace iotspot::cli
