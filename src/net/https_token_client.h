#pragma once
// The token client on Poco NetSSL: one POST to the token endpoint over TLS 1.2+, with
// certificate and host-name verification always on (the system CA store plus the profile's
// ca_file), HTTPS_PROXY / NO_PROXY honoured, and connect/read timeouts.

#include "core/token_client.h"

#include <optional>
#include <string>

namespace iotspot::net {

class HttpsTokenClient : public core::TokenClient {
public:
    HttpsTokenClient();
    core::FetchResult fetch(const core::TokenRequest& request, const core::Log& log) override;
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
