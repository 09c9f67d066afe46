#include "cli/help.h"

#include <cstddef>
#include <iterator>
#include <vector>

#include "cli/command_table.h"
#include "cli/context.h"
#include "core/error.h"
#include "core/settings.h"

#ifndef IOTSPOT_VERSION
#define IOTSPOT_VERSION "0.0.0"
#endif

namespace iotspot::cli {

namespace {

constexpr const char* overview =
    "Gets OAuth2 tokens for the iotspot API, caches them encrypted until close to\n"
    "expiry, and hands them to scripts, shells and tools.\n";

constexpr const char* credential_description =
    R"~(The credential-helper protocol of git-credential(1), also installed as
git-credential-iotspot: git writes key=value lines (protocol=https, host=...) on
standard input and reads the answer on standard output.

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

Set it up for iotspot.co and every host under it with:
  git config --global credential.https://iotspot.co.helper iotspot
  git config --global credential.https://*.iotspot.co.helper iotspot
)~";

struct Description {
    const char* command;
    const char* text;
};

constexpr Description descriptions[] = {
    {"configure", R"~(Writes the profile to the config file and stores the client secret encrypted.
The secret is read from the terminal without echo, or, with --client-secret-stdin,
from the first line of standard input; never from the command line.
Reconfiguring an existing profile keeps the settings you do not pass, and keeps
its stored secret when none is given and the client id is unchanged.
--api-url names the API this profile's tokens are for: git and the plugins match
requests against it. iotspot's API specs give its base URL. The default,
https://*.iotspot.co, matches https on iotspot.co and every host under it.
--shared-cache shares one token between hosts through Redis or Valkey (the URL
holds no password; "none" removes it). Its password comes from
IOTSPOT_REDIS_PASSWORD, or is stored encrypted: asked on the terminal, or with
--redis-password-stdin from the next line of standard input (after the client
secret's line when --client-secret-stdin is given too). See docs/fleet.md.
)~"},
    {"token", R"~(Prints the access token and a newline: the cached one while it is fresh, else a
new one from the token server. --min-ttl asks for at least that much remaining
life for this call. --json prints {"access_token","token_type","expires_at","expires_in"}.
)~"},
    {"header",
     R"~(Prints "Authorization: Bearer <token>" and a newline (for curl -H @- and the like).
)~"},
    {"env", R"~(Prints assignments of IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT (Unix
seconds) for the shell, default POSIX sh:
  eval "$(iotspot-helper env)"                       sh, bash, zsh, dash
  iotspot-helper env --shell fish | source           fish
  iotspot-helper env --shell powershell | Invoke-Expression
To keep the token fresh in interactive bash, zsh or fish, source iotspot.bash,
iotspot.zsh or iotspot.fish from <prefix>/share/iotspot-helper/shell/ in your rc
file (docs/integrations.md).
)~"},
    {"exec", R"~(Runs COMMAND with IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT set and exits
with its status (126 when it cannot be run, 127 when it is not found).
Without --keep-fresh these variables are set once and never refresh: the token
expires while COMMAND runs on. For anything that runs longer than the token's
refresh margin (a worker, a daemon, a container), use --keep-fresh.

--keep-fresh: the helper stays COMMAND's parent and keeps a private token file
fresh (0600, in a directory of its own under $XDG_RUNTIME_DIR, else $TMPDIR or
/tmp), named by IOTSPOT_ACCESS_TOKEN_FILE; COMMAND reads it again on each
request. IOTSPOT_ACCESS_TOKEN and IOTSPOT_TOKEN_EXPIRES_AT hold the token of the
start. --on-refresh signal:NAME sends NAME (HUP, USR1, ...) to COMMAND after each
refresh; --on-refresh restart stops it (SIGTERM, SIGKILL after 10 s) and starts
it again with fresh variables; the default refreshes the file only. It acts as
init for COMMAND, so it can be a container's PID 1: it forwards SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH, reaps orphaned processes, exits
with COMMAND's status (128+N when it died of signal N) and removes the file.
A failed refresh keeps the last token in the file and is retried (see sink).
COMMAND never sees a secret variable (IOTSPOT_CLIENT_SECRET, _FILE, and the
Redis password's) nor a descriptor of the helper's files.
)~"},
    {"sink", R"~(Writes the access token alone, on one line, to FILE and keeps it fresh until
SIGTERM or SIGINT: it sleeps until the token enters its refresh margin (the same
rule, cache, lock and shared cache as every other command), then replaces FILE
atomically (a new file in the same directory, synced, renamed), so a reader never
sees it empty or partial. A missing directory is created (0700). FILE is 0600, or
--mode 0640 for a reader in the same group. A symbolic link, FIFO or directory
at FILE is refused (exit 6) and nothing is written through it.
When a refresh fails, FILE keeps the last token, a warning says so once, and the
refresh is retried with backoff (0.5 s doubling to 4 s, with jitter, each try
with its own retries within IOTSPOT_TIMEOUT) until it works, which one line says.
On SIGTERM or SIGINT it removes FILE and exits 0; --keep leaves it. --once writes
FILE once and exits (cron, systemd timers). Fails at start (no file written) with
the exit status of `token`.
)~"},
    {"status", R"~(Shows each profile: its client id, token URL, whether a secret is stored, and
whether a token is cached and when it expires. Never shows a token or secret.
)~"},
    {"logout", R"~(Drops the cached token of the profile (or of every profile with --all), so the
next call fetches a new one. --forget-secret also deletes the stored client secret.
)~"},
    {"prefetch", R"~(Refreshes cached tokens ahead of time, so that interactive calls always hit the
cache; meant for cron and systemd timers (docs/unattended.md). A profile's token
is fetched when the cached one would not outlive --min-ttl (default: twice the
profile's refresh_margin, 600 s unless configured; a timer should pass its
interval plus the margin). --profile may be repeated, one profile each (default:
the profile in force); --all takes every configured profile.

Prints one line per profile on stdout ("refreshed" or "still fresh", and when
its token expires; never the token), and one line per failed profile on stderr:
  iotspot-helper: prefetch: profile "NAME": <what failed and what to do>
Exit status: 0 all succeeded, 1 some failed; when all failed, their exit code
(the lowest one when they differ).
)~"},
    {"serve", R"~(Answers GET http://127.0.0.1:N/v1/token?profile=NAME (default port 47381) with
{"access_token","token_type","expires_at","expires_in"}, from the same cache as
`token`, for tools that cannot run a program (Postman, Bruno's safe mode);
DELETE on the same URL drops the cached token (after the API refused it).
Every request needs the header X-Iotspot-Key: <key>; --print-key prints the
per-user key (created on first use). Requests with an Origin header or a Host
other than 127.0.0.1:N / localhost:N are refused. Runs in the foreground, logs
one line per request on stderr, stops on SIGTERM or Ctrl-C. --profile sets the
profile for requests that name none.
)~"},
    {"completion",
     R"~(Prints the tab-completion script for the shell: on each TAB it asks the helper,
which answers from its own table of commands and options. The package installs
them where each shell finds them; to load one by hand:
  source <(iotspot-helper completion bash)                bash
  source <(iotspot-helper completion zsh)                 zsh, after compinit
  iotspot-helper completion fish | source                 fish
)~"},
    {"api", R"~(Sends one request to the iotspot API with the profile's token and prints the
answer's body as received (--include: the status line and headers first).
A PATH (/v1/...) goes to the profile's api_url when that is a URL, else to
https://api.iotspot.co; a full URL must be https and match the profile's
api_url. Redirects are not followed. --data sends a body (default Content-Type
application/json); -X sets the method (default GET, POST with --data).
When the API answers 401, the cached token is dropped, a fresh one fetched and
the request sent once more (a body from standard input is kept for that). A 429,
or a 503 with Retry-After, is waited out as told while IOTSPOT_TIMEOUT allows.
Any other 4xx or 5xx prints the body and exits 7. --verbose shows the method,
URL, status and timing, never the token.
)~"},
    {"get", credential_description},
    {"store", credential_description},
    {"erase", credential_description},
};

// Appends `words` to `out`, wrapping lines at 80 columns with `indent` spaces.
std::string wrap(const std::vector<std::string>& words, std::size_t indent) {
    std::string out;
    std::size_t column = 0;
    for (const auto& word : words) {
        if (column > indent && column + 1 + word.size() > 80) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (!out.empty()) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
    }
    return out + "\n";
}

std::string option_usage(const OptionSpec& option) {
    std::string text = std::string("--") + option.name;
    if (option.value != Value::none) {
        text += std::string(" ") + option.metavar;
    }
    return text;
}

// "  --name VALUE      summary" for each option of `command` (every command's with "*").
std::string option_lines(std::string_view command) {
    std::string out;
    for (const auto& option : option_specs) {
        if (is_global(option) != (command == "*") || !accepts(option, command)) {
            continue;
        }
        std::string left = "  " + option_usage(option);
        if (option.short_name != '\0') {
            left += std::string(", -") + option.short_name;
        }
        left.resize(left.size() < 24 ? 24 : left.size() + 1, ' ');
        out += left + option.summary + "\n";
    }
    return out;
}

std::string overview_text() {
    std::string out = "usage: iotspot-helper [--profile P] [--verbose] COMMAND [OPTIONS]\n\n";
    out += overview;
    out += "\nCommands:\n";
    for (const auto& command : command_specs) {
        if (is_listed(command)) {
            std::string name = std::string("  ") + command.name;
            name.resize(14, ' ');
            out += name + command.summary + "\n";
        }
    }
    out += "\nOptions for every command:\n" + option_lines("*");
    out += "\nEnvironment (overrides the config file; enough on its own in CI):\n";
    for (const auto& entry : environment_help()) {
        out += std::string("  ") + entry.name + "\n      " + entry.meaning + "\n";
    }
    out += "\nFiles:\n";
    for (const auto& entry : file_entries) {
        out += std::string("  ") + entry.name + "\n      " + entry.meaning + "\n";
    }
    out += "\nExit status:\n";
    for (const auto& entry : core::exit_meanings) {
        out += "  " + std::to_string(static_cast<int>(entry.code)) + "  " + entry.meaning + "\n";
    }
    out += "\nDocumentation: man iotspot-helper; docs/usage.md, docs/integrations.md.\n";
    return out;
}

} // namespace

std::vector<HelpEntry> environment_help() {
    std::vector<HelpEntry> out{profile_variable_entry};
    for (const auto& setting : core::all_settings) {
        if (setting.variable != nullptr) {
            out.push_back({setting.variable, setting.variable_meaning});
        }
    }
    out.insert(out.end(), std::begin(environment_entries), std::end(environment_entries));
    return out;
}

std::vector<const OptionSpec*> usage_options(std::string_view command) {
    std::vector<const OptionSpec*> out;
    for (const auto& option : option_specs) {
        if (accepts(option, command) && (!is_global(option) || option.value != Value::none)) {
            out.push_back(&option);
        }
    }
    return out;
}

std::string usage_text(std::string_view command) {
    std::vector<std::string> words{"iotspot-helper", std::string(command)};
    for (const auto* option : usage_options(command)) {
        words.push_back("[" + option_usage(*option) + "]");
    }
    if (const auto* spec = find_command(command); spec && *spec->operand_usage != '\0') {
        words.emplace_back(spec->operand_usage);
    }
    return wrap(words, 11);
}

std::string_view command_description(std::string_view command) {
    for (const auto& entry : descriptions) {
        if (command == entry.command) {
            return entry.text;
        }
    }
    return "";
}

std::string_view overview_description() {
    return overview;
}

std::string help_text(const std::string& command) {
    const auto* spec = find_command(command);
    if (spec == nullptr || !is_listed(*spec) || command == "help" || command == "version") {
        return overview_text();
    }
    std::string out = "usage: " + usage_text(command) + "\n";
    out += command_description(command);
    const auto options = option_lines(command);
    if (!options.empty()) {
        out += "\nOptions:\n" + options;
    }
    out += "\nOptions for every command: --profile P, --verbose, --help, --version.\n";
    return out;
}

int help_command(Context&) {
    print(overview_text());
    return 0;
}

int version_command(Context&) {
    print(version_text());
    return 0;
}

std::string version_text() {
    return std::string("iotspot-helper ") + IOTSPOT_VERSION + "\n";
}

std::string_view version_number() {
    return IOTSPOT_VERSION;
}

} // namespace iotspot::cli
