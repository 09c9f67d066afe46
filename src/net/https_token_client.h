#pragma once
// The token client on OpenSSL (net/tls_socket.h), with Poco's URI and JSON: one POST to the
// token endpoint over TLS 1.2+, with certificate and host-name verification always on (the
// system CA store plus the profile's ca_file; net/tls_context.h), HTTPS_PROXY / NO_PROXY
// honoured (an HTTP CONNECT tunnel). Not on Poco NetSSL: loading it, with Net, Util, XML and
// Crypto, made a cache miss slower than curl (docs/architecture.md).
//
// TokenRequest::timeout_seconds bounds the whole fetch on the wall clock: name resolution,
// connecting, the proxy tunnel, the TLS handshake, the request and the whole answer. A
// watchdog shuts the socket down at the deadline (net/deadline.h), so a server that drips
// its answer a byte at a time is cut off like one that does not answer at all.
//
// A client keeps its last connection open (HTTP keep-alive) and reuses it for the next
// request to the same host, port, CA file and proxy, so a prefetch worker that refreshes
// several profiles pays for one TLS handshake. A kept connection that the server has closed
// meanwhile is replaced transparently. One client serves one thread at a time.

#include <memory>
#include <optional>
#include <string>

#include "core/token_client.h"

namespace iotspot::net {

class HttpsTokenClient : public core::TokenClient {
public:
    HttpsTokenClient();
    ~HttpsTokenClient() override;
    HttpsTokenClient(const HttpsTokenClient&) = delete;
    HttpsTokenClient& operator=(const HttpsTokenClient&) = delete;

    core::FetchResult fetch(const core::TokenRequest& request, const core::Log& log) override;

    /// The kept-alive TLS connection and what it was opened for.
    struct Connection;

private:
    std::unique_ptr<Connection> connection_;
};

/// A proxy to use for `host`, from HTTPS_PROXY/https_proxy unless NO_PROXY/no_proxy names
/// the host (a suffix match, or "*").
struct Proxy {
    std::string host;
    unsigned short port = 0;
    std::string username;
    std::string password;
};
std::optional<Proxy> proxy_for(const std::string& host);

} // namespace iotspot::net
