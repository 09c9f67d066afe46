#pragma once
// The token client: one POST to the token endpoint (RFC 6749 4.4, the client authenticated
// with HTTP Basic) through libcurl, set up once for the whole module in net/curl_session.h:
// https only, no redirects, TLS 1.2+ with certificate and host-name verification always on
// (the system store plus the profile's ca_file), the proxy from HTTPS_PROXY, NO_PROXY as
// curl reads it, and TokenRequest::timeout_seconds as one deadline for the whole fetch.
//
// A client keeps its connection open (HTTP keep-alive) for the next request to the same
// server, so a prefetch worker that refreshes several profiles pays for one TLS handshake.
// One client serves one thread at a time.

#include <memory>

#include "core/token_client.h"

namespace iotspot::net {

class CurlSession;

class HttpsTokenClient : public core::TokenClient {
public:
    HttpsTokenClient();
    ~HttpsTokenClient() override;
    HttpsTokenClient(const HttpsTokenClient&) = delete;
    HttpsTokenClient& operator=(const HttpsTokenClient&) = delete;

    core::FetchResult fetch(const core::TokenRequest& request, const core::Log& log) override;

private:
    std::unique_ptr<CurlSession> session_;
};

} // namespace iotspot::net
