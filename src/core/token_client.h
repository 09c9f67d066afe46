#pragma once
// The boundary between the core and the network module.
//
// The core decides when a token is needed; a TokenClient makes one token request. The
// implementation (src/net, on libcurl) lives in a shared module that the executable loads
// only on a cache miss, so a cache hit never pays for loading libcurl and OpenSSL.
// Nothing is thrown across this boundary: a FetchResult carries the outcome.

#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/log.h"
#include "core/module_boundary.h"

namespace iotspot::core {

struct TokenRequest {
    std::string token_url;
    std::string client_id;
    std::string client_secret;
    std::string scope;
    std::string ca_file;      ///< trusted in addition to the system store; may be empty
    int timeout_seconds = 10; ///< one deadline for the whole request (CURLOPT_TIMEOUT_MS)
};

struct FetchResult {
    Exit code = Exit::ok;   ///< ok, rejected (OAuth error) or network (everything else)
    std::string message;    ///< what went wrong, for the user; never contains the secret
    bool retryable = false; ///< connection error, timeout, 5xx, throttling
    std::optional<std::int64_t> retry_after; ///< seconds, from a Retry-After header
    bool client_refused = false; ///< the server answered invalid_client (a wrong secret?)

    std::string access_token;
    std::int64_t expires_in = 0;
    std::optional<std::int64_t> server_date;    ///< the answer's Date header, Unix seconds
    std::optional<std::int64_t> jwt_issued_at;  ///< the token's `iat`, when it is a JWT
    std::optional<std::int64_t> jwt_expires_at; ///< the token's `exp`, when it is a JWT
};

class TokenClient {
public:
    virtual ~TokenClient() = default;
    /// Makes one token request. Never throws.
    virtual FetchResult fetch(const TokenRequest& request, const Log& log) = 0;
};

/// Bumped whenever TokenRequest, FetchResult, TokenClient or the entry point change shape.
inline constexpr int token_client_abi = 3;

} // namespace iotspot::core

/// The module's token_client_abi (core/module_boundary.h).
IOTSPOT_MODULE_ENTRY const int iotspot_net_token_client_abi;

/// The network module's token-client entry point: a new client, or nullptr when `abi`
/// differs from the module's own token_client_abi or no client can be made. Never throws.
IOTSPOT_MODULE_ENTRY iotspot::core::TokenClient* iotspot_net_create_client(int abi);
