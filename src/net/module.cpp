// The network module's entry point, looked up with dlsym by the executable.

#include "net/https_token_client.h"
#include "net/redis_shared_cache.h"

extern "C" __attribute__((visibility("default"))) iotspot::core::TokenClient*
iotspot_net_create_client(int abi) {
    if (abi != iotspot::core::token_client_abi) {
        return nullptr;
    }
    try {
        return new iotspot::net::HttpsTokenClient();
    } catch (...) {
        return nullptr;
    }
}

// The shared cache's client (core/shared_cache.h), on Poco::Redis.
extern "C" __attribute__((visibility("default"))) iotspot::core::SharedCacheClient*
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
