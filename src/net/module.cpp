// The network module's token-client and shared-cache entry points (core/module_boundary.h);
// serve's is in net/local_server.cpp.

#include "net/https_token_client.h"
#include "net/redis_shared_cache.h"

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

const int iotspot_net_shared_cache_abi = iotspot::core::shared_cache_abi;

// The shared cache's client (core/shared_cache.h), on Poco::Redis.
iotspot::core::SharedCacheClient*
iotspot_net_create_shared_cache(int abi, const iotspot::core::SharedCacheSettings* settings) {
    if (abi != iotspot::core::shared_cache_abi || settings == nullptr) {
        return nullptr;
    }
    try {
        return new iotspot::net::RedisSharedCache(*settings);
    } catch (...) {
        return nullptr;
    }
}
