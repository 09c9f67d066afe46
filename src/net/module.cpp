// The network module's entry point: the token client (core/module_boundary.h). The shared
// cache's is in the Redis module (net/redis_module.cpp).

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
