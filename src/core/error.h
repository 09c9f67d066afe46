#pragma once
// The one error type of the project and its exit-code table.
//
// Every failure a user can hit is an Error: a message written for the user (what failed and
// what to do, one line, never a token or a secret) and the exit code that scripts test for.
// Exactly one catch, at the top of the executable, prints it as "iotspot-helper: <message>".

#include <stdexcept>
#include <string>

namespace iotspot::core {

/// The documented exit codes (docs/usage.md, `iotspot-helper --help`).
enum class Exit : int {
    ok = 0,
    failure = 1,        ///< prefetch: some, not all, profiles failed
    usage = 2,          ///< bad command line or protocol input
    not_configured = 3, ///< no profile, client id or secret; bad config file
    rejected = 4,       ///< the token server refused the credentials or request (OAuth error)
    network = 5,        ///< unreachable, TLS, timeout, 5xx, malformed answer
    store = 6,          ///< key file, cache or secret store unusable
    api_error = 7,      ///< `api`: the API answered 4xx or 5xx (its body is on stdout)
};

/// What each exit code means, for --help and the man page.
struct ExitMeaning {
    Exit code;
    const char* meaning;
};

inline constexpr ExitMeaning exit_meanings[] = {
    {Exit::ok, "success"},
    {Exit::failure, "prefetch: some profiles failed; or an unexpected internal error"},
    {Exit::usage, "usage error: unknown command or option, bad value, bad protocol input"},
    {Exit::not_configured, "not configured: no profile, client id or secret; bad config file"},
    {Exit::rejected, "the token server rejected the credentials or request"},
    {Exit::network,
     "token server unreachable, TLS failure, timeout, server error or malformed answer"},
    {Exit::store, "local key or store problem (permissions, damaged or newer files)"},
    {Exit::api_error, "api: the API answered with an HTTP error (4xx, 5xx); its body is on "
                      "stdout"},
};

class Error : public std::runtime_error {
public:
    Error(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}

    Exit code() const noexcept { return code_; }

private:
    Exit code_;
};

/// A store that must not be used, never worked around by running without it: a file or
/// directory that another user could read, a database of a newer schema.
class StoreRefused : public Error {
public:
    explicit StoreRefused(const std::string& message) : Error(Exit::store, message) {}
};

} // namespace iotspot::core
