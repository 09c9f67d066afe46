#pragma once
// The policy of `iotspot-helper api`, as pure functions: where a request may go, which
// headers and methods it may carry, and what to do with each answer.
//
//   iotspot-helper api /v1/ping
//     -> GET https://api.iotspot.co/v1/ping, Authorization: Bearer <cached token>
//     401 -> drop the cached token (as git's erase does), fetch a fresh one, send once more
//     429, or 503 with Retry-After -> wait as told while IOTSPOT_TIMEOUT allows, send again
//     any other status -> done: the body on stdout; 4xx/5xx exit 7 (Exit::api_error)
//
// The token goes only to the profile's API: a PATH is appended to the profile's api_url when
// that is a URL, else to https://api.iotspot.co; a full URL must be https and match the
// profile's api_url rule (core/credential_protocol.h, api_url_matches).

#include <cstdint>
#include <optional>
#include <string>

namespace iotspot::core {

/// Where a PATH goes when the profile's api_url is a pattern ("https://*.iotspot.co"), not a
/// URL: the host iotspot's documentation gives for the API.
inline constexpr const char* default_api_base = "https://api.iotspot.co";

/// The most a request body (--data) may hold.
inline constexpr std::size_t max_api_request_body = 16 * 1024 * 1024;

/// The https URL that `target` (a PATH starting with '/', or a full URL) names for a profile
/// whose api_url is `api_url`. Throws Error(usage) naming the reason: plain http, another
/// host, userinfo, a relative path, control characters or spaces.
std::string api_request_url(const std::string& target, const std::string& api_url);

/// A -H value "Name: value" checked and normalised to "Name: value". Throws Error(usage) for
/// a name that is not an HTTP token, CR, LF or NUL anywhere, Authorization (the helper sets
/// it), Host (the URL decides it), Content-Length and Transfer-Encoding (--data decides them).
std::string checked_header(const std::string& line);

/// The -X value checked: an HTTP method token, upper-cased. Throws Error(usage).
std::string checked_method(const std::string& method);

/// What to do after an answer.
enum class ApiStep {
    done,          ///< print the answer
    renew_token,   ///< drop the cached token, fetch a fresh one, send again
    wait_and_send, ///< wait ApiDecision::wait seconds, send again
    out_of_time,   ///< the server asked for a wait that IOTSPOT_TIMEOUT does not leave
};

struct ApiDecision {
    ApiStep step = ApiStep::done;
    double wait = 0; ///< seconds, for wait_and_send
};

/// The step after an answer with `status` and `retry_after` seconds. `renewed` is true once
/// the token was renewed (a second 401 is done); `seconds_left` is what IOTSPOT_TIMEOUT
/// leaves. A 429 without Retry-After waits 1 s; a 503 without it is done.
ApiDecision decide_api_step(long status, std::optional<std::int64_t> retry_after, bool renewed,
                            double seconds_left);

/// True for a status that makes `api` exit with Exit::api_error (400 to 599).
bool is_api_error(long status);

} // namespace iotspot::core
