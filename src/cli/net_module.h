#pragma once
// Loads the network module (iotspot-helper-net.so: libcurl, OpenSSL) on first use, and the
// shared-cache module (iotspot-helper-redis.so: hiredis's reply reader, Poco NetSSL) only
// for a profile with shared_cache. Only a cache miss pays for loading libcurl and OpenSSL.

#include <memory>

#include "core/api_client.h"
#include "core/shared_cache.h"
#include "core/token_client.h"

namespace iotspot::cli {

/// The token client of the network module, loaded once per process. Looked for beside the
/// executable (build tree) and in <libdir>/iotspot-helper/ relative to it (installed). Throws
/// Error(network) naming the path when it cannot be loaded.
core::TokenClient& net_token_client();

/// A new token client of its own (one per worker thread: a client is not thread-safe), from
/// the same module, which is loaded only once. Throws like net_token_client().
std::unique_ptr<core::TokenClient> new_net_token_client();

/// A new client for `iotspot-helper api`, from the same module. Throws like net_token_client().
std::unique_ptr<core::ApiClient> new_net_api_client();

/// A new client of the shared cache described by `settings` (it connects on first use), from
/// the shared-cache module, loaded once. Throws like net_token_client().
std::unique_ptr<core::SharedCacheClient>
new_net_shared_cache(const core::SharedCacheSettings& settings);

} // namespace iotspot::cli
