#pragma once
// The one table of commands and options. The parser (cli/args), --help (cli/help), the
// answers to the shells' completion scripts (cli/completion) and the man page (cli/manual) all
// come from it, so they cannot disagree. Add an option here and every one of them knows it.

#include <string_view>

namespace iotspot::cli {

/// What an option's value is: decides what the shells complete after it.
enum class Value {
    none,    ///< a flag
    profile, ///< a profile name (completed from the configured profiles)
    file,    ///< a file name
    choice,  ///< one of OptionSpec::choices
    other,   ///< free text or a number: nothing to complete
};

struct OptionSpec {
    const char* name;     ///< the long name without "--"
    char short_name;      ///< '\0' when there is none
    Value value;          ///< Value::none for a flag
    const char* metavar;  ///< how help names the value ("SECONDS"); "" for a flag
    const char* commands; ///< space-separated commands that accept it, "*" for every command
    const char* summary;  ///< one line for help, completion and the man page
    const char* choices;  ///< space-separated values for Value::choice, else ""
};

/// What follows a command's options.
enum class Operands {
    none,    ///< nothing
    shell,   ///< one shell name (completion)
    command, ///< a command and its arguments (exec)
    file,    ///< one file name (sink)
    target,  ///< one PATH or URL (api)
};

struct CommandSpec {
    const char* name;
    const char* summary; ///< one line for the command list; "" for a hidden command
    Operands operands;
    const char* operand_usage; ///< how usage lines show the operands ("-- COMMAND [ARGS...]")
};

/// Every option and the commands that accept it.
inline constexpr OptionSpec option_specs[] = {
    {"profile", '\0', Value::profile, "P", "*",
     "the profile to use (default: $IOTSPOT_PROFILE, else \"default\")", ""},
    {"verbose", 'v', Value::none, "", "*", "say what happens on stderr (never a token or secret)",
     ""},
    {"help", 'h', Value::none, "", "*", "this text, or a command's (iotspot-helper token --help)",
     ""},
    {"version", 'V', Value::none, "", "*", "print the version", ""},
    {"min-ttl", '\0', Value::other, "SECONDS", "token header env exec get store erase prefetch",
     "a token with at least this much remaining life", ""},
    {"json", '\0', Value::none, "", "token header env status", "print JSON", ""},
    {"shell", '\0', Value::choice, "SHELL", "env", "the shell to print assignments for",
     "sh bash zsh dash ksh fish powershell pwsh"},
    {"client-id", '\0', Value::other, "ID", "configure", "the app client id", ""},
    {"token-url", '\0', Value::other, "URL", "configure",
     "the token endpoint (default: iotspot's production endpoint)", ""},
    {"scope", '\0', Value::other, "S", "configure", "the scope to ask for (iotspot/openapi)", ""},
    {"api-url", '\0', Value::other, "URL", "configure",
     "the API the tokens are for (https://*.iotspot.co)", ""},
    {"ca-file", '\0', Value::file, "FILE", "configure", "PEM file of extra CA certificates", ""},
    {"refresh-margin", '\0', Value::other, "SECONDS", "configure",
     "refresh a cached token this long before it expires (300)", ""},
    {"client-secret-stdin", '\0', Value::none, "", "configure",
     "read the secret from the first line of standard input", ""},
    {"shared-cache", '\0', Value::other, "URL", "configure",
     "share tokens between hosts: redis://[user@]host:port[/db], rediss://..., "
     "redis+sentinel://[user@]host:port[,host:port...]/MASTER[/db], or none",
     ""},
    {"request-price", '\0', Value::other, "USD", "configure",
     "USD per 1,000 token requests for status's estimated cost (2.25)", ""},
    {"next-client-secret-stdin", '\0', Value::none, "", "configure",
     "store a second secret for a rotation from the next line of standard input", ""},
    {"redis-password-stdin", '\0', Value::none, "", "configure",
     "read the Redis password from the next line of standard input", ""},
    {"all", '\0', Value::none, "", "logout prefetch", "every configured profile", ""},
    {"forget-secret", '\0', Value::none, "", "logout", "also delete the stored client secret", ""},
    {"quiet", '\0', Value::none, "", "prefetch", "print nothing for profiles that succeed", ""},
    {"jobs", '\0', Value::other, "N", "prefetch", "refresh up to N profiles at once (1-64, 8)", ""},
    {"port", '\0', Value::other, "N", "serve", "the port to listen on (47381)", ""},
    {"print-key", '\0', Value::none, "", "serve", "print the per-user access key", ""},
    {"keep-fresh", '\0', Value::none, "", "exec",
     "stay the command's parent and keep IOTSPOT_ACCESS_TOKEN_FILE fresh", ""},
    {"on-refresh", '\0', Value::other, "ACTION", "exec",
     "with --keep-fresh, after each refresh: signal:NAME (HUP, USR1...) or restart", ""},
    {"mode", '\0', Value::other, "MODE", "sink", "the token file's mode: 0600 (default) or 0640",
     ""},
    {"keep", '\0', Value::none, "", "sink", "leave the token file when stopped", ""},
    {"once", '\0', Value::none, "", "sink", "write the token file once and exit", ""},
    {"metrics", '\0', Value::file, "FILE", "prefetch sink",
     "write the counters to FILE for node_exporter's textfile collector", ""},
    {"method", 'X', Value::choice, "METHOD", "api", "the HTTP method (GET; POST with --data)",
     "GET POST PUT PATCH DELETE HEAD"},
    {"header", 'H', Value::other, "'NAME: VALUE'", "api", "add a request header (repeatable)", ""},
    {"data", '\0', Value::other, "STRING|@FILE|@-", "api",
     "the request body: the text, a file's content, or standard input (at most 16 MiB)", ""},
    {"include", 'i', Value::none, "", "api", "print the answer's status line and headers first",
     ""},
};

/// Every command, in the order help lists them. Hidden commands (empty summary) are for the
/// completion scripts and the build.
inline constexpr CommandSpec command_specs[] = {
    {"configure", "store a profile: client id, token URL, scope; the secret encrypted",
     Operands::none, ""},
    {"token", "print the access token", Operands::none, ""},
    {"header", "print \"Authorization: Bearer <token>\"", Operands::none, ""},
    {"env", "print shell assignments of IOTSPOT_ACCESS_TOKEN, IOTSPOT_TOKEN_EXPIRES_AT",
     Operands::none, ""},
    {"exec", "run a command with those two variables set (--keep-fresh: kept fresh)",
     Operands::command, "-- COMMAND [ARGS...]"},
    {"sink", "keep a file holding the access token fresh (until SIGTERM)", Operands::file, "FILE"},
    {"status", "show profiles and cached tokens (never a token or secret)", Operands::none, ""},
    {"logout", "drop cached tokens (and with --forget-secret, the stored secret)", Operands::none,
     ""},
    {"get", "git credential helper: answer a request on stdin", Operands::none, ""},
    {"store", "git credential helper: accepted and ignored", Operands::none, ""},
    {"erase", "git credential helper: drop the matching cached token", Operands::none, ""},
    {"prefetch", "refresh tokens ahead of time (for cron and systemd timers)", Operands::none, ""},
    {"serve", "answer token requests on 127.0.0.1 for Postman-like tools", Operands::none, ""},
    {"api", "send a request to the iotspot API with the token; a refused token is renewed",
     Operands::target, "PATH|URL"},
    {"completion", "print the completion script for bash, zsh or fish", Operands::shell,
     "bash|zsh|fish"},
    {"help", "show help", Operands::none, ""},
    {"version", "print the version", Operands::none, ""},
    {"__complete", "", Operands::command, "-- WORDS..."},
    {"__profiles", "", Operands::none, ""},
    {"__man", "", Operands::none, ""},
};

/// The shells `completion` writes scripts for.
inline constexpr const char* completion_shells = "bash zsh fish";

/// The option named `name` (without "--"), or nullptr.
const OptionSpec* find_option(std::string_view name);

/// The command named `name`, or nullptr.
const CommandSpec* find_command(std::string_view name);

/// True when `option` applies to `command` (an empty command accepts every option).
bool accepts(const OptionSpec& option, std::string_view command);

/// True for options every command accepts (--profile, --verbose, --help, --version).
bool is_global(const OptionSpec& option);

/// True for commands help and completion list (not the hidden __ ones).
bool is_listed(const CommandSpec& command);

} // namespace iotspot::cli
