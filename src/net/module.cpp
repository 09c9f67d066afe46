// The network module's token-client and API-client entry points (core/module_boundary.h).
// The shared cache's is in the Redis module (net/redis_module.cpp).

#include "net/curl_api_client.h"
#include "net/https_token_client.h"

const int iotspot_net_token_client_abi = iotspot::core::token_client_abi;

iotspot::core::TokenClient* iotspot_net_create_client(int abi) {
    if (abi != iotspot::core::token_client_abi) {
        return nullptr;
    }
    try {
        return new iotspot::net::HttpsTokenClient();
    } catch (...) {
        return nullptr;
    }
}

const int iotspot_net_api_client_abi = iotspot::core::api_client_abi;

iotspot::core::ApiClient* iotspot_net_create_api_client(int abi) {
    if (abi != iotspot::core::api_client_abi) {
        return nullptr;
    }
    try {
        return new iotspot::net::CurlApiClient();
    } catch (...) {
        return nullptr;
    }
}
