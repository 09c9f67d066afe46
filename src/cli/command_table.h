#pragma once
// The one table of commands and options. The parser (cli/args), the dispatcher (cli/run),
// --help (cli/help), the shell completions (cli/completion) and the man page (cli/manual) are
// all generated from it, so they cannot disagree. Add an option here and every one of them
// knows it. `configure`'s options for the settings come from core/settings.h.

#include <array>
#include <cstddef>
#include <string_view>

#include "core/settings.h"

namespace iotspot::cli {

class Context;

/// One command: runs it and returns the exit status.
using Command = int (*)(Context&);

int configure_command(Context& ctx);
int token_command(Context& ctx);
int header_command(Context& ctx);
int env_command(Context& ctx);
int exec_command(Context& ctx);
/// exec --keep-fresh (cli/keep_fresh_command.cpp).
int exec_keep_fresh_command(Context& ctx);
int sink_command(Context& ctx);
int status_command(Context& ctx);
int logout_command(Context& ctx);
int prefetch_command(Context& ctx);
int serve_command(Context& ctx);
int api_command(Context& ctx);
int get_command(Context& ctx);
int store_command(Context& ctx);
int erase_command(Context& ctx);
int completion_command(Context& ctx);
/// Prints the overview of --help.
int help_command(Context& ctx);
/// Prints the version.
int version_command(Context& ctx);
/// Prints what to offer for a command line being completed (cli/completion.h); never fails.
int complete_command(Context& ctx);
/// Prints the configured profiles, one a line (for scripts).
/// Prints the man page iotspot-helper(1) (for the build).
int manual_command(Context& ctx);

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
    Command run;               ///< what runs it
};

namespace detail {

/// The options before `configure`'s settings.
inline constexpr OptionSpec options_before_settings[] = {
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
};

/// The options after `configure`'s settings.
inline constexpr OptionSpec options_after_settings[] = {
    {"client-secret-stdin", '\0', Value::none, "", "configure",
     "read the secret from the first line of standard input", ""},
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

/// `configure`'s option for `setting`.
constexpr OptionSpec setting_option(const core::Setting& setting) {
    return {setting.option,
            '\0',
            setting.type == core::SettingType::file ? Value::file : Value::other,
            setting.metavar,
            "configure",
            setting.summary,
            ""};
}

inline constexpr std::size_t option_count = std::size(options_before_settings) +
                                            std::size(core::all_settings) +
                                            std::size(options_after_settings);

constexpr std::array<OptionSpec, option_count> every_option() {
    std::array<OptionSpec, option_count> out{};
    std::size_t next = 0;
    for (const auto& option : options_before_settings) {
        out[next++] = option;
    }
    for (const auto& setting : core::all_settings) {
        out[next++] = setting_option(setting);
    }
    for (const auto& option : options_after_settings) {
        out[next++] = option;
    }
    return out;
}

} // namespace detail

/// Every option and the commands that accept it: `configure`'s settings among them.
inline constexpr std::array<OptionSpec, detail::option_count> option_specs = detail::every_option();

/// Every command, in the order help lists them. Hidden commands (empty summary) are for the
/// completion scripts and the build.
inline constexpr CommandSpec command_specs[] = {
    {"configure", "store a profile: client id, token URL, scope; the secret encrypted",
     Operands::none, "", configure_command},
    {"token", "print the access token", Operands::none, "", token_command},
    {"header", "print \"Authorization: Bearer <token>\"", Operands::none, "", header_command},
    {"env", "print shell assignments of IOTSPOT_ACCESS_TOKEN, IOTSPOT_TOKEN_EXPIRES_AT",
     Operands::none, "", env_command},
    {"exec", "run a command with those two variables set (--keep-fresh: kept fresh)",
     Operands::command, "-- COMMAND [ARGS...]", exec_command},
    {"sink", "keep a file holding the access token fresh (until SIGTERM)", Operands::file, "FILE",
     sink_command},
    {"status", "show profiles and cached tokens (never a token or secret)", Operands::none, "",
     status_command},
    {"logout", "drop cached tokens (and with --forget-secret, the stored secret)", Operands::none,
     "", logout_command},
    {"get", "git credential helper: answer a request on stdin", Operands::none, "", get_command},
    {"store", "git credential helper: accepted and ignored", Operands::none, "", store_command},
    {"erase", "git credential helper: drop the matching cached token", Operands::none, "",
     erase_command},
    {"prefetch", "refresh tokens ahead of time (for cron and systemd timers)", Operands::none, "",
     prefetch_command},
    {"serve", "answer token requests on 127.0.0.1 for Postman-like tools", Operands::none, "",
     serve_command},
    {"api", "send a request to the iotspot API with the token; a refused token is renewed",
     Operands::target, "PATH|URL", api_command},
    {"completion", "print the completion script for bash, zsh or fish", Operands::shell,
     "bash|zsh|fish", completion_command},
    {"help", "show help", Operands::none, "", help_command},
    {"version", "print the version", Operands::none, "", version_command},
    {"__complete", "", Operands::command, "-- WORDS...", complete_command},
    {"__man", "", Operands::none, "", manual_command},
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
