#pragma once
// Loads the network module (iotspot-helper-net.so, built on Poco NetSSL) on first use.
// Only a cache miss pays for loading Poco and OpenSSL.

#include "core/token_client.h"

namespace iotspot::cli {

/// The token client of the network module, loaded once per process. Looked for beside the
/// executable (build tree) and in <libdir>/iotspot-helper/ relative to it (installed). Throws Error(network)
/// naming the path when it cannot be loaded.
core::TokenClient& net_token_client();

} // namespace iotspot::cli
