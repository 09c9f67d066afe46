// The Redis module's shared-cache entry point (core/module_boundary.h): the shared cache's
// client (core/shared_cache.h) on Poco::Redis, loaded only for a profile with shared_cache.

#include "net/redis_shared_cache.h"

const int iotspot_net_shared_cache_abi = iotspot::core::shared_cache_abi;

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
