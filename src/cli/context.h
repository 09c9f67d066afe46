#pragma once
// What every command works with: the environment, the files, the log, and the token service
// wired to the real clock and the network module.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/command_table.h"
#include "core/config.h"
#include "core/environment.h"
#include "core/log.h"
#include "core/paths.h"
#include "service/token_service.h"

namespace iotspot::cli {

class Context {
public:
    Context(const Invocation& invocation, core::Environment env);

    const Invocation& invocation;
    const core::Environment env;
    const core::Paths paths;
    const core::Log log;
    service::TokenService service;

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
    service::ServiceDeps worker_deps() const;

private:
    std::optional<core::ConfigFile> config_;
};

/// Writes `text` to standard output; Error when it cannot.
void print(const std::string& text);

} // namespace iotspot::cli
