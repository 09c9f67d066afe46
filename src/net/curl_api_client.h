#pragma once
// `iotspot-helper api`'s client (core/api_client.h) on the module's one libcurl set-up
// (net/curl_session.h: https only, no redirects followed, the project's TLS policy and trust,
// one deadline, the proxy from HTTPS_PROXY), with the answer's body bounded by
// core::max_api_response_body.

#include <memory>

#include "core/api_client.h"

namespace iotspot::net {

class CurlSession;

class CurlApiClient : public core::ApiClient {
public:
    CurlApiClient();
    ~CurlApiClient() override;
    core::ApiResponse send(const core::ApiRequest& request, const core::Log& log) override;

private:
    std::unique_ptr<CurlSession> session_;
};

} // namespace iotspot::net
