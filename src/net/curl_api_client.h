#pragma once
// `iotspot-helper api`'s client (core/api_client.h) on libcurl: https only, no redirects
// followed, the profile's CA file beside the system store, the whole exchange within the
// request's timeout, the answer's body bounded by core::max_api_response_body.

#include "core/api_client.h"

namespace iotspot::net {

class CurlApiClient : public core::ApiClient {
public:
    CurlApiClient();
    core::ApiResponse send(const core::ApiRequest& request, const core::Log& log) override;
};

} // namespace iotspot::net
