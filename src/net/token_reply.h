#pragma once
// Reading the token server's answer: Cognito's success JSON, its OAuth2 errors, AWS's
// throttling body, and everything malformed. Pure: the HTTP exchange is passed in.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/token_client.h"

namespace iotspot::net {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers; ///< names lower-cased
    bool truncated = false;                     ///< fewer bytes arrived than Content-Length
};

/// Classifies an answer: ok with token and lifetime, rejected (exit 4) with a message naming
/// the OAuth error and what to do, or network (exit 5), retryable for 5xx and throttling.
/// `now` resolves an HTTP-date Retry-After; `scope` is named in an invalid_scope message.
core::FetchResult interpret_answer(const HttpAnswer& answer, const std::string& scope,
                                   std::int64_t now);

/// The `iat` and `exp` claims of a JWT, when `token` is one (unverified: only used to
/// cross-check expires_in).
std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>
jwt_times(const std::string& token);

/// Parses an HTTP date (RFC 7231) into Unix seconds.
std::optional<std::int64_t> parse_http_date(const std::string& text);

} // namespace iotspot::net
