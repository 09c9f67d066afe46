#pragma once
// The local token endpoint of `iotspot-helper serve`, for tools that cannot start a process
// (Postman's sandbox, Bruno's safe mode) but can make HTTP requests.
//
//   GET /v1/token?profile=default HTTP/1.1
//   Host: 127.0.0.1:47381
//   X-Iotspot-Key: <64 hex characters from `iotspot-helper serve --print-key`>
//
//   HTTP/1.1 200 OK
//   Content-Type: application/json
//   Cache-Control: no-store
//
//   {"access_token":"eyJ...","token_type":"Bearer","expires_at":"2026-11-26T10:00:00Z","expires_in":3599}
//
// A tool whose request got 401 from the API drops the refused token, as git's `erase` does,
// so that its next GET fetches a fresh one:
//
//   DELETE /v1/token?profile=default HTTP/1.1     (same Host and X-Iotspot-Key)
//
//   HTTP/1.1 200 OK
//   {"profile":"default","dropped":true}          (false: there was no cached token)
//
// Any local process, another user's included, can reach a loopback port, and so can a web
// page through the browser. So every request must carry the per-user key (401 without it,
// compared in constant time), and a request whose Host is not 127.0.0.1/localhost with the
// right port (DNS rebinding) or that carries an Origin header (a browser) is refused with 403,
// whatever the method.
// No CORS headers are ever sent, so no preflight can succeed.
//
// This file is the policy, as a pure function; src/server serves it over HTTP through the
// LocalRequestHandler interface (server/local_server.h), so the server never sees the token
// service.

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/log.h"

namespace iotspot::core {

inline constexpr int default_serve_port = 47381;

struct LocalRequest {
    std::string method;                         ///< "GET"
    std::string target;                         ///< path and query, "/v1/token?profile=x"
    std::map<std::string, std::string> headers; ///< names lower-cased
};

struct LocalResponse {
    int status = 200;
    std::string body; ///< always JSON
    std::string note; ///< for the request log line ("cache hit", "wrong key"); never secret
};

/// What the endpoint hands out for a profile: the JSON answer of `token --json`, or throws
/// core::Error like the token commands.
using TokenLookup = std::function<std::string(const std::string& profile)>;

/// Drops the cached token of a profile (DELETE); true when there was one. Throws core::Error
/// like the token commands.
using TokenEraser = std::function<bool(const std::string& profile)>;

/// Answers one request. `key` is the per-user key, `port` the port served on,
/// `default_profile` the profile when the query names none; `lookup` answers GET and `erase`
/// DELETE.
LocalResponse answer_local_request(const LocalRequest& request, const std::string& key, int port,
                                   const std::string& default_profile, const TokenLookup& lookup,
                                   const TokenEraser& erase);

/// Implemented by serve (cli/serve_command.cpp), called by its HTTP server from several
/// threads at once; implementations serialise as they need.
class LocalRequestHandler {
public:
    virtual ~LocalRequestHandler() = default;
    virtual LocalResponse handle(const LocalRequest& request) = 0;
};

} // namespace iotspot::core
