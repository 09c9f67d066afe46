#pragma once
// The command line: `iotspot-helper [OPTIONS] COMMAND [OPTIONS] [-- ARGS...]`.
// Options may stand before or after the command; `--name=value` and `--name value` both
// work; `--` ends the options (everything after it belongs to `exec`). Each option is valid
// only with the commands listed in its spec, so a typo is a usage error (exit 2), not ignored.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace iotspot::cli {

struct Invocation {
    std::string command; ///< empty when only --help or --version was given
    std::map<std::string, std::vector<std::string>> options; ///< "min-ttl" -> {"600"}
    std::vector<std::string> arguments; ///< after `--`, or after the command for exec

    bool has(const std::string& name) const { return options.count(name) != 0; }
    /// The last value given for `name`.
    std::optional<std::string> value(const std::string& name) const;
    /// Every value given for a repeatable option.
    std::vector<std::string> values(const std::string& name) const;
    /// A whole, non-negative number of seconds, or Error(usage).
    std::optional<long long> seconds(const std::string& name) const;
};

/// Parses argv (without argv[0]). Throws Error(usage) with a message that names the problem.
Invocation parse_arguments(const std::vector<std::string>& args);

/// The error for a command this program does not know (git's helpers must ignore those).
class UnknownCommand : public core::Error {
public:
    explicit UnknownCommand(const std::string& message) : Error(core::Exit::usage, message) {}
};

/// True when `command` is one this program knows.
bool is_command(const std::string& command);

} // namespace iotspot::cli
