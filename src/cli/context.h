#pragma once
// What every command works with: the environment, the files, the log, and the token service
// wired to the real clock and the network module.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/config.h"
#include "core/environment.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/token_service.h"

namespace iotspot::cli {

class Context {
public:
    Context(const Invocation& invocation, core::Environment env);

    const Invocation& invocation;
    const core::Environment env;
    const core::Paths paths;
    const core::Log log;
    core::TokenService service;

    /// The profile name in force (--profile, IOTSPOT_PROFILE, "default").
    std::string profile_name() const;
    /// The parsed config file (empty when there is none); read once.
    const core::ConfigFile& config();
    /// The names of the profiles that exist: those in the config file, and the one in force
    /// when IOTSPOT_CLIENT_ID configures it from the environment. Sorted, no duplicates.
    std::vector<std::string> configured_profiles();
    /// The resolved profile `name` (default: profile_name()).
    core::Profile profile(const std::optional<std::string>& name = std::nullopt);
    /// Current Unix time.
    static std::int64_t now();
    /// What a token service of its own needs (one per worker thread: TokenService is not
    /// thread-safe): these paths, environment and log, and a token client of its own that is
    /// created on first use.
    core::ServiceDeps worker_deps() const;

private:
    std::optional<core::ConfigFile> config_;
};

/// Writes `text` to standard output; Error when it cannot.
void print(const std::string& text);

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
/// Prints what to offer for a command line being completed (cli/completion.h); never fails.
int complete_command(Context& ctx);
/// Prints the configured profiles, one a line (for scripts).
int profiles_command(Context& ctx);
/// Prints the man page iotspot-helper(1) (for the build).
int manual_command(Context& ctx);

} // namespace iotspot::cli
