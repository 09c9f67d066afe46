#pragma once
// The boundary between `iotspot-helper api` and the network module: one HTTPS request to the
// iotspot API, made with libcurl in the module (the executable never links libcurl).
//
// The executable decides everything a request may do (core/api_request.h: which URL, which
// headers, when to fetch a fresh token and when to wait); the client only sends it and reads
// the answer: https only, the profile's CA file, no redirects followed, no proxy credentials
// of ours, the whole exchange within `timeout_seconds`. Nothing is thrown across: an
// ApiResponse carries the outcome.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/module_boundary.h"

namespace iotspot::core {

/// The most an answer's body may hold; a longer one is a failure (exit 5), never truncated.
inline constexpr std::size_t max_api_response_body = 16 * 1024 * 1024;

struct ApiRequest {
    std::string method;               ///< "GET", "POST", ...
    std::string url;                  ///< an https:// URL, checked by the executable
    std::vector<std::string> headers; ///< "Name: value" lines, Authorization among them
    std::optional<std::string> body;  ///< sent as is; nullopt: no body
    std::string ca_file;              ///< trusted in addition to the system store; may be empty
    int timeout_seconds = 20;         ///< bound on the whole exchange
};

struct ApiResponse {
    Exit code = Exit::ok; ///< ok: an HTTP answer arrived (any status); network: none did
    std::string message;  ///< what went wrong when code is not ok, for the user
    long status = 0;      ///< the HTTP status
    std::string head;     ///< the status line and header fields as received, CRLF-separated
    std::string body;     ///< as received
    std::optional<std::int64_t> retry_after; ///< Retry-After in seconds (a date resolved)
    double seconds = 0;                      ///< how long the exchange took
};

class ApiClient {
public:
    virtual ~ApiClient() = default;
    /// Sends one request and reads its answer. Never throws, never logs a header's value.
    virtual ApiResponse send(const ApiRequest& request, const Log& log) = 0;
};

/// Bumped whenever ApiRequest, ApiResponse, ApiClient or the entry point change shape.
inline constexpr int api_client_abi = 1;

} // namespace iotspot::core

/// The module's api_client_abi (core/module_boundary.h).
IOTSPOT_MODULE_ENTRY const int iotspot_net_api_client_abi;

/// The network module's API-client entry point: a new client, or nullptr when `abi` differs
/// from the module's own api_client_abi or no client can be made. Never throws.
IOTSPOT_MODULE_ENTRY iotspot::core::ApiClient* iotspot_net_create_api_client(int abi);
